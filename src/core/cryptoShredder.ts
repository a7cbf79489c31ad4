import { ConfigurationError, TamperedDataError, ValidationError } from './errors.js';
import { newEventId } from './eventId.js';
import {
  type DataKeyRecord,
  type ForgetOutcome,
  fromBase64,
  type KeyEncryptionKey,
  type KeyStore,
  toBase64,
} from './keyStore.js';
import type { PersonalDataPolicy } from './personalData.js';
import type { EventData, RecordedEvent } from './types.js';

/** What a personal field reads as once its subject was forgotten: stable, never an error. */
export const ERASED = '[erased]';

/** The stored form of one encrypted personal field (AES-256-GCM, base64 fields). */
export interface EncryptedValue {
  enc: 'aes256gcm.v1';
  /** The data subject whose key encrypted it. */
  sub: string;
  /** Id of that subject's data key. */
  kid: string;
  iv: string;
  ct: string;
}

/** True for a value in the stored encrypted form ({@link EncryptedValue}). */
export function isEncryptedValue(value: unknown): value is EncryptedValue {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    v.enc === 'aes256gcm.v1' &&
    typeof v.sub === 'string' &&
    typeof v.kid === 'string' &&
    typeof v.iv === 'string' &&
    typeof v.ct === 'string'
  );
}

/** The WebCrypto parts the shredder uses; `globalThis.crypto` by default. */
export type CryptoPort = Pick<typeof globalThis.crypto, 'getRandomValues' | 'subtle'>;
type CryptoKey = Awaited<ReturnType<CryptoPort['subtle']['importKey']>>;

export interface CryptoShredderOptions {
  /** Which fields of which event types are personal: see `personalData`. */
  personalData: PersonalDataPolicy;
  keyStore: KeyStore;
  /** Wraps every new data key (see `parseKeyEncryptionKey`). */
  keyEncryptionKey: KeyEncryptionKey;
  /** Older key-encryption keys that may still wrap some data keys, until `rotateKeyEncryptionKey` ran. */
  previousKeyEncryptionKeys?: readonly KeyEncryptionKey[];
  /** Unwrapped data keys kept in memory (least recently used go first). Default 10 000. */
  keyCacheSize?: number;
  /** Default `globalThis.crypto`. */
  crypto?: CryptoPort;
  /** Default `() => new Date()`. */
  now?: () => Date;
}

export interface ForgetResult {
  subject: string;
  outcome: ForgetOutcome;
  /** Says what happened, e.g. that an unknown subject had nothing to forget. */
  message: string;
}

/**
 * Encrypts and decrypts personal fields with per-subject data keys. Usually used through
 * `withCryptoShredding`; a consumer in the same trust domain (Kafka, relay) uses
 * `decryptEvent` with the same key store and key-encryption key.
 */
export interface CryptoShredder {
  readonly personalData: PersonalDataPolicy;
  /** Encrypts the declared personal fields; assigns missing event ids, which the ciphertexts are bound to. */
  encryptEvents(streamId: string, events: readonly EventData[]): Promise<EventData[]>;
  /** Decrypts every encrypted top-level field; a forgotten subject's fields read as {@link ERASED}. */
  decryptEvent<E extends RecordedEvent>(event: E): Promise<E>;
  /** Encrypts any JSON value for `subject`, bound to `context`; `undefined` once the subject is forgotten. */
  sealValue(subject: string, context: string, value: unknown): Promise<EncryptedValue | undefined>;
  /** Opens a sealed value; `{ erased: true }` once its subject was forgotten. */
  openValue(
    sealed: EncryptedValue,
    context: string,
    what: string,
  ): Promise<{ erased: false; value: unknown } | { erased: true }>;
  /** Destroys the subject's data key (every copy of its personal fields becomes unreadable). */
  forget(subject: string): Promise<ForgetResult>;
  /** Re-wraps every data key under the current key-encryption key; events are not touched. */
  rotateKeyEncryptionKey(options?: { batchSize?: number }): Promise<{ rewrapped: number }>;
}

type CachedKey = { state: 'active'; keyId: string; key: CryptoKey } | { state: 'forgotten' };

const HOW_TO_MAKE =
  "generate one with: node -e \"console.log(require('crypto').randomBytes(32).toString('base64'))\"";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Creates the crypto-shredding engine: AES-256-GCM with a random 96-bit IV per field, the
 * ciphertext bound to (event id, field, subject) so a ciphertext copied elsewhere fails;
 * per-subject data keys wrapped with AES-256-GCM by the key-encryption key.
 *
 * @example
 * const shredder = createCryptoShredder({
 *   personalData: userPersonalData,
 *   keyStore: createSqliteKeyStore(sqliteStore.database),
 *   keyEncryptionKey: parseKeyEncryptionKey(process.env.EVENTLOOM_MASTER_KEY, 'EVENTLOOM_MASTER_KEY'),
 * });
 * const store = withCryptoShredding(sqliteStore, shredder);
 */
export function createCryptoShredder(options: CryptoShredderOptions): CryptoShredder {
  const policy = options.personalData;
  const keyStore = options.keyStore;
  const cryptoPort = options.crypto ?? (globalThis as { crypto?: CryptoPort }).crypto;
  if (cryptoPort?.subtle === undefined) {
    throw new ConfigurationError(
      'WebCrypto (globalThis.crypto.subtle) is not available; use Node 20 or later',
    );
  }
  const subtle = cryptoPort.subtle;
  checkKek(options.keyEncryptionKey, 'keyEncryptionKey');
  (options.previousKeyEncryptionKeys ?? []).forEach((k, i) =>
    checkKek(k, `previousKeyEncryptionKeys[${i}]`),
  );
  const now = options.now ?? (() => new Date());
  const cacheSize = Math.max(1, options.keyCacheSize ?? 10_000);
  const cache = new Map<string, CachedKey>();
  const loading = new Map<string, Promise<CachedKey | undefined>>();

  const importKek = async (k: KeyEncryptionKey): Promise<[string, CryptoKey]> => {
    const id =
      k.id ??
      hex(
        new Uint8Array(
          await subtle.digest('SHA-256', concat(encoder.encode('eventloom-kek-id:'), k.bytes)),
        ).subarray(0, 8),
      );
    const key = await subtle.importKey('raw', k.bytes, 'AES-GCM', false, ['encrypt', 'decrypt']);
    return [id, key];
  };
  const keks = (async () => {
    const [current, ...previous] = await Promise.all(
      [options.keyEncryptionKey, ...(options.previousKeyEncryptionKeys ?? [])].map(importKek),
    );
    return { current: current!, all: new Map([current!, ...previous]) };
  })();
  // Reported on first use, not as an unhandled rejection.
  keks.catch(() => undefined);

  const remember = (subject: string, entry: CachedKey): CachedKey => {
    cache.delete(subject);
    cache.set(subject, entry);
    if (cache.size > cacheSize) cache.delete(cache.keys().next().value!);
    return entry;
  };

  const wrapAad = (subject: string, keyId: string): Uint8Array =>
    encoder.encode(`eventloom-data-key\u0000${subject}\u0000${keyId}`);

  const wrap = async (subject: string, keyId: string, raw: Uint8Array) => {
    const { current } = await keks;
    const iv = cryptoPort.getRandomValues(new Uint8Array(12));
    const ct = new Uint8Array(
      await subtle.encrypt(
        { name: 'AES-GCM', iv, additionalData: wrapAad(subject, keyId) },
        current[1],
        raw,
      ),
    );
    return { kekId: current[0], wrappedKey: concat(iv, ct) };
  };

  const unwrapRaw = async (record: {
    subject: string;
    keyId: string;
    kekId: string;
    wrappedKey: Uint8Array;
  }) => {
    const { all } = await keks;
    const kek = all.get(record.kekId);
    if (kek === undefined) {
      throw new ConfigurationError(
        `The data key of subject '${record.subject}' is wrapped by key-encryption key '${record.kekId}', which is not configured; pass it in previousKeyEncryptionKeys (then run rotateKeyEncryptionKey)`,
      );
    }
    try {
      return new Uint8Array(
        await subtle.decrypt(
          {
            name: 'AES-GCM',
            iv: record.wrappedKey.subarray(0, 12),
            additionalData: wrapAad(record.subject, record.keyId),
          },
          kek,
          record.wrappedKey.subarray(12),
        ),
      );
    } catch (error) {
      throw new TamperedDataError(
        `The stored data key of subject '${record.subject}' failed authentication: it was altered or belongs to another subject`,
        { cause: error, details: { subject: record.subject } },
      );
    }
  };

  const importDataKey = (raw: Uint8Array): Promise<CryptoKey> =>
    subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']);

  const fromRecord = async (record: DataKeyRecord | undefined): Promise<CachedKey | undefined> => {
    if (record === undefined) return undefined;
    if (record.state === 'forgotten') return { state: 'forgotten' };
    return {
      state: 'active',
      keyId: record.keyId,
      key: await importDataKey(await unwrapRaw(record)),
    };
  };

  const once = (subject: string, load: () => Promise<CachedKey | undefined>) => {
    const hit = cache.get(subject);
    if (hit !== undefined) return Promise.resolve(remember(subject, hit));
    let pending = loading.get(subject);
    if (pending === undefined) {
      pending = load()
        .then((entry) => (entry === undefined ? undefined : remember(subject, entry)))
        .finally(() => loading.delete(subject));
      loading.set(subject, pending);
    }
    return pending;
  };

  const keyForRead = (subject: string) =>
    once(subject, async () => fromRecord(await keyStore.get(subject)));

  const loadOrCreate = async (subject: string): Promise<CachedKey> => {
    const existing = await fromRecord(await keyStore.get(subject));
    if (existing !== undefined) return existing;
    const raw = cryptoPort.getRandomValues(new Uint8Array(32));
    const keyId = newEventId();
    const stored = await keyStore.create({
      subject,
      keyId,
      ...(await wrap(subject, keyId, raw)),
      createdAt: now(),
    });
    // A racing process may have created the key first: use whatever the store kept.
    if (stored.state === 'active' && stored.keyId === keyId) {
      return { state: 'active', keyId, key: await importDataKey(raw) };
    }
    return (await fromRecord(stored))!;
  };

  const keyForWrite = async (subject: string): Promise<CachedKey> => {
    // A read already under way may find no key (undefined); then load again, creating it.
    for (;;) {
      const entry = await once(subject, () => loadOrCreate(subject));
      if (entry !== undefined) return entry;
    }
  };

  const aad = (context: string, subject: string): Uint8Array =>
    encoder.encode(`v1\u0000${context}\u0000${subject}`);

  const sealWith = async (
    entry: Extract<CachedKey, { state: 'active' }>,
    subject: string,
    context: string,
    value: unknown,
  ): Promise<EncryptedValue> => {
    const iv = cryptoPort.getRandomValues(new Uint8Array(12));
    const ct = await subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: aad(context, subject) },
      entry.key,
      encoder.encode(JSON.stringify(value)),
    );
    return {
      enc: 'aes256gcm.v1',
      sub: subject,
      kid: entry.keyId,
      iv: toBase64(iv),
      ct: toBase64(new Uint8Array(ct)),
    };
  };

  const sealValue = async (subject: string, context: string, value: unknown) => {
    const entry = await keyForWrite(subject);
    return entry.state === 'active' ? sealWith(entry, subject, context, value) : undefined;
  };

  const openValue = async (
    sealed: EncryptedValue,
    context: string,
    what: string,
  ): Promise<{ erased: false; value: unknown } | { erased: true }> => {
    const entry = await keyForRead(sealed.sub);
    // No key, a forgotten one, or another key than the one that sealed it: the data is gone.
    if (entry?.state !== 'active' || entry.keyId !== sealed.kid) return { erased: true };
    let plain: ArrayBuffer;
    try {
      plain = await subtle.decrypt(
        { name: 'AES-GCM', iv: fromBase64(sealed.iv), additionalData: aad(context, sealed.sub) },
        entry.key,
        fromBase64(sealed.ct),
      );
    } catch (error) {
      throw new TamperedDataError(
        `${what} failed authentication: the ciphertext was altered or copied from another event or field`,
        { cause: error, details: { subject: sealed.sub } },
      );
    }
    return { erased: false, value: JSON.parse(decoder.decode(plain)) as unknown };
  };

  const fieldContext = (eventId: string, field: string): string => `${eventId}\u0000${field}`;

  const encryptEvent = async (
    streamId: string,
    event: EventData,
    index: number,
  ): Promise<EventData> => {
    const rule = policy.ruleFor(event?.type);
    if (rule === undefined || typeof event.data !== 'object' || event.data === null) return event;
    const data = event.data as Record<string, unknown>;
    const subject = rule.subject({ type: event.type, data, streamId });
    if (typeof subject !== 'string' || subject.length === 0) {
      throw new ValidationError(
        `events[${index}].data`,
        `the personal-data subject of ${event.type} must be a non-empty string (check its subject function in personalData); got ${JSON.stringify(subject)}`,
      );
    }
    const id = event.id ?? newEventId();
    const present = rule.fields.filter((f) => data[f] !== undefined);
    if (present.length === 0) return event;
    const entry = await keyForWrite(subject);
    const out: Record<string, unknown> = { ...data };
    await Promise.all(
      present.map(async (f) => {
        // After a forget the subject stays forgotten: late data about them is not kept.
        out[f] =
          entry.state === 'active'
            ? await sealWith(entry, subject, fieldContext(id, f), data[f])
            : ERASED;
      }),
    );
    return { ...event, id, data: out };
  };

  const decryptEvent = async <E extends RecordedEvent>(event: E): Promise<E> => {
    if (event.type === PERSONAL_DATA_FORGOTTEN) {
      // Another process forgot this subject: drop the key this one may still cache.
      const subject = (event.data as { subject?: unknown } | null)?.subject;
      if (typeof subject === 'string') remember(subject, { state: 'forgotten' });
      return event;
    }
    const data = event.data;
    if (typeof data !== 'object' || data === null || Array.isArray(data)) return event;
    let out: Record<string, unknown> | undefined;
    const pending: Promise<void>[] = [];
    for (const [field, value] of Object.entries(data as Record<string, unknown>)) {
      if (!isEncryptedValue(value)) continue;
      out ??= { ...(data as Record<string, unknown>) };
      const target = out;
      pending.push(
        openValue(
          value,
          fieldContext(event.id, field),
          `Personal field data.${field} of event ${event.id} (stream '${event.streamId}' version ${event.version})`,
        ).then((r) => {
          target[field] = r.erased ? ERASED : r.value;
        }),
      );
    }
    if (out === undefined) return event;
    await Promise.all(pending);
    return { ...event, data: out };
  };

  return {
    personalData: policy,
    encryptEvents: (streamId, events) =>
      // Not an array: left for the store to refuse with its own message.
      Array.isArray(events)
        ? Promise.all(events.map((e: EventData, i) => encryptEvent(streamId, e, i)))
        : Promise.resolve(events as EventData[]),
    decryptEvent,
    sealValue,
    openValue,
    async forget(subject) {
      if (typeof subject !== 'string' || subject.length === 0) {
        throw new ValidationError('subject', 'must be a non-empty string: the data subject id');
      }
      const outcome = await keyStore.forget(subject, now());
      remember(subject, { state: 'forgotten' });
      if (outcome === 'unknown') cache.delete(subject);
      const message =
        outcome === 'forgotten'
          ? `Forgot subject '${subject}': its data key is destroyed and its personal fields read as '${ERASED}'`
          : outcome === 'already-forgotten'
            ? `Subject '${subject}' was already forgotten; nothing to do`
            : `No data key exists for subject '${subject}'; nothing to forget`;
      return { subject, outcome, message };
    },
    async rotateKeyEncryptionKey(rotateOptions = {}) {
      const { current } = await keks;
      const batchSize = rotateOptions.batchSize ?? 500;
      let rewrapped = 0;
      const skipped = new Set<string>();
      for (;;) {
        const batch = (
          await keyStore.listWrappedByOtherKek(current[0], batchSize + skipped.size)
        ).filter((k) => !skipped.has(k.subject));
        if (batch.length === 0) return { rewrapped };
        for (const key of batch) {
          const next = await wrap(key.subject, key.keyId, await unwrapRaw(key));
          if (
            await keyStore.rewrap(key.subject, { keyId: key.keyId, fromKekId: key.kekId }, next)
          ) {
            rewrapped++;
          } else {
            // Forgotten or re-wrapped meanwhile by someone else: nothing left to do for it.
            skipped.add(key.subject);
          }
        }
      }
    },
  };
}

/** The type of the event that records a forget (in stream `personal-data-<subject>`). */
export const PERSONAL_DATA_FORGOTTEN = 'PersonalDataForgotten';

function checkKek(k: KeyEncryptionKey | undefined, path: string): void {
  if (!(k?.bytes instanceof Uint8Array) || k.bytes.length !== 32) {
    throw new ConfigurationError(
      `${path} must be 32 bytes (parse EVENTLOOM_MASTER_KEY with parseKeyEncryptionKey); ${HOW_TO_MAKE}`,
    );
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
