import { StoreClosedError } from './errors.js';
import type { DataKeyRecord, ForgetOutcome, KeyStore, WrappedDataKey } from './keyStore.js';

/**
 * Data keys kept in memory: for tests and single-process prototypes (a restart forgets
 * every key, and with them every personal field).
 *
 * @example
 * const shredder = createCryptoShredder({ personalData: policy, keyStore: createMemoryKeyStore(), keyEncryptionKey });
 */
export function createMemoryKeyStore(): KeyStore {
  const records = new Map<string, DataKeyRecord>();
  let closed = false;
  const copy = (r: DataKeyRecord): DataKeyRecord =>
    r.state === 'active'
      ? { ...r, wrappedKey: r.wrappedKey.slice(), createdAt: new Date(r.createdAt) }
      : { ...r, forgottenAt: new Date(r.forgottenAt) };
  const run = <T>(f: () => T): Promise<T> =>
    Promise.resolve().then(() => {
      if (closed) throw new StoreClosedError('key store');
      return f();
    });
  return {
    get: (subject) =>
      run(() => {
        const r = records.get(subject);
        return r === undefined ? undefined : copy(r);
      }),
    create: (key: WrappedDataKey) =>
      run(() => {
        const existing = records.get(key.subject);
        if (existing !== undefined) return copy(existing);
        const record: DataKeyRecord = { state: 'active', ...key };
        records.set(key.subject, copy(record));
        return copy(record);
      }),
    rewrap: (subject, expected, next) =>
      run(() => {
        const r = records.get(subject);
        if (r?.state !== 'active' || r.keyId !== expected.keyId || r.kekId !== expected.fromKekId) {
          return false;
        }
        records.set(subject, { ...r, kekId: next.kekId, wrappedKey: next.wrappedKey.slice() });
        return true;
      }),
    listWrappedByOtherKek: (kekId, limit) =>
      run(() => {
        const out: WrappedDataKey[] = [];
        for (const r of records.values()) {
          if (out.length >= limit) break;
          if (r.state === 'active' && r.kekId !== kekId) {
            const { state: _state, ...key } = copy(r) as Extract<
              DataKeyRecord,
              { state: 'active' }
            >;
            out.push(key);
          }
        }
        return out;
      }),
    forget: (subject, at) =>
      run((): ForgetOutcome => {
        const r = records.get(subject);
        if (r === undefined) return 'unknown';
        if (r.state === 'forgotten') return 'already-forgotten';
        records.set(subject, { state: 'forgotten', subject, forgottenAt: new Date(at) });
        return 'forgotten';
      }),
    close: () => {
      closed = true;
      return Promise.resolve();
    },
  };
}
