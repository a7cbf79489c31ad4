import {
  type CryptoShredder,
  type ForgetResult,
  isEncryptedValue,
  PERSONAL_DATA_FORGOTTEN,
} from './cryptoShredder.js';
import { ValidationError } from './errors.js';
import type { EventStore, Snapshot, SnapshotStore, SubscribeOptions } from './types.js';

/** An event store whose personal fields are encrypted at rest and can be forgotten. */
export interface CryptoShreddingEventStore extends EventStore {
  readonly shredder: CryptoShredder;
  /**
   * Destroys the subject's data key and records the fact as a `PersonalDataForgotten` event
   * in stream `personal-data-<subject>`, so projections and other processes can react.
   * Forgetting an unknown subject does nothing and says so in the result.
   */
  forget(subject: string): Promise<ForgetResult>;
}

/** The stream where the forgetting of `subject` is recorded. */
export const forgottenStreamId = (subject: string): string => `personal-data-${subject}`;

/**
 * Wraps any event store so that declared personal fields are encrypted before they are
 * stored, and everything read — `readStream`, `readAll`, subscription handlers and all that
 * is built on them (command handlers, aggregates, projections, rebuilds, upcasters wrapped
 * around this store) — sees plaintext, or {@link ERASED} once the subject was forgotten.
 *
 * @example
 * const store = withCryptoShredding(createSqliteEventStore({ path }), shredder);
 * await store.appendToStream('user-1', [{ type: 'UserRegistered', data: { userId: '1', email: 'a@b.c' } }]);
 * await store.forget('1'); // every copy of the email now reads '[erased]'
 */
export function withCryptoShredding(
  store: EventStore,
  shredder: CryptoShredder,
): CryptoShreddingEventStore {
  const decryptAll = <E extends Parameters<CryptoShredder['decryptEvent']>[0]>(events: E[]) =>
    Promise.all(events.map((e) => shredder.decryptEvent(e)));
  return {
    shredder,
    checkpoints: store.checkpoints,
    appendToStream: async (streamId, events, options) =>
      store.appendToStream(streamId, await shredder.encryptEvents(streamId, events), options),
    readStream: async (streamId, options) => decryptAll(await store.readStream(streamId, options)),
    readAll: async (options) => decryptAll(await store.readAll(options)),
    streamInfo: (streamId) => store.streamInfo(streamId),
    deleteStream: (streamId, options) => store.deleteStream(streamId, options),
    headPosition: () => store.headPosition(),
    subscribe(options: SubscribeOptions) {
      if (typeof options?.handler !== 'function') {
        throw new ValidationError(
          'options.handler',
          'must be a function (event, context) => void | Promise<void>',
        );
      }
      const { handler } = options;
      return store.subscribe({
        ...options,
        handler: async (event, context) => handler(await shredder.decryptEvent(event), context),
      });
    },
    async forget(subject) {
      const result = await shredder.forget(subject);
      if (result.outcome === 'unknown') return result;
      const streamId = forgottenStreamId(subject);
      // Also after 'already-forgotten': an earlier forget may have failed before recording.
      if (result.outcome === 'forgotten' || !(await store.streamInfo(streamId)).exists) {
        await store.appendToStream(streamId, [
          {
            type: PERSONAL_DATA_FORGOTTEN,
            data: { subject, forgottenAt: new Date().toISOString() },
          },
        ]);
      }
      return result;
    },
    close: () => store.close(),
  };
}

export interface SnapshotEncryptionOptions {
  /** Whose personal data a snapshot holds; `undefined` stores it as is. */
  subject: (snapshot: Snapshot) => string | undefined;
}

/**
 * Wraps a snapshot store so that snapshots holding personal data are stored encrypted with
 * their subject's key. Once the subject is forgotten such a snapshot loads as absent, so
 * the state is folded again from the (now erased) events; nothing fails.
 *
 * @example
 * const snapshots = withSnapshotEncryption(sqliteStore.snapshots, shredder, {
 *   subject: (s) => (s.streamId.startsWith('user-') ? s.streamId.slice(5) : undefined),
 * });
 */
export function withSnapshotEncryption(
  snapshots: SnapshotStore,
  shredder: CryptoShredder,
  options: SnapshotEncryptionOptions,
): SnapshotStore {
  const context = (streamId: string): string => `snapshot\u0000${streamId}`;
  return {
    async load<S = unknown>(streamId: string): Promise<Snapshot<S> | undefined> {
      const found = await snapshots.load<unknown>(streamId);
      if (found === undefined || !isEncryptedValue(found.state))
        return found as Snapshot<S> | undefined;
      const opened = await shredder.openValue(
        found.state,
        context(streamId),
        `The snapshot of stream '${streamId}' (version ${found.version})`,
      );
      return opened.erased ? undefined : { ...found, state: opened.value as S };
    },
    async save(snapshot) {
      const subject = options.subject(snapshot);
      if (subject === undefined) return snapshots.save(snapshot);
      const state = await shredder.sealValue(subject, context(snapshot.streamId), snapshot.state);
      // A forgotten subject's state is not kept again.
      if (state === undefined) return snapshots.delete(snapshot.streamId);
      return snapshots.save({ ...snapshot, state });
    },
    delete: (streamId) => snapshots.delete(streamId),
  };
}
