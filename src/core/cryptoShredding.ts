import type { AeadCipher } from './cipher.js';
import {
  createCryptoShredder,
  type CryptoShredder,
  type ForgetResult,
  isEncryptedValue,
  PERSONAL_DATA_FIELD,
  PERSONAL_DATA_FORGOTTEN,
} from './cryptoShredder.js';
import { ValidationError } from './errors.js';
import type { KeyEncryptionKey, KeyStore } from './keyStore.js';
import { handlerOf, mapReads, perEventOptions } from './readMapping.js';
import type { PersonalDataPolicy } from './personalData.js';
import type {
  AppendOptions,
  AppendResult,
  EventData,
  EventStore,
  Snapshot,
  SnapshotStore,
  SubscribeOptions,
} from './types.js';

/** An event store whose personal fields are encrypted at rest and can be forgotten. */
export interface CryptoShreddingEventStore extends EventStore {
  readonly shredder: CryptoShredder;
  /**
   * Destroys the subject's data key and records the fact as a `PersonalDataForgotten` event
   * in stream `personal-data-<subject>`, so projections and other processes can react.
   * Forgetting an unknown subject does nothing and says so in the result.
   */
  forget(subject: string): Promise<ForgetResult>;
  /**
   * The same events as stored: personal fields sealed (`data._personal`). Copies that leave
   * the process (the Kafka publisher, the relay) read this, so forgetting also forgets them.
   */
  readonly storedForm: EventStore;
}

/** The `personalData` option of `createMemoryEventStore`, `createSqliteEventStore` and `createMongoEventStore`. */
export interface PersonalDataStoreOptions {
  /** Which fields of which event types are personal: see `personalData`. */
  policy: PersonalDataPolicy;
  /** Wraps the per-subject data keys (see `parseKeyEncryptionKey`). */
  keyEncryptionKey: KeyEncryptionKey;
  previousKeyEncryptionKeys?: readonly KeyEncryptionKey[];
  /** Default: the store's own (memory, the same SQLite file, the same MongoDB database). */
  keyStore?: KeyStore;
  /** Default: node:crypto for SQLite and MongoDB, WebCrypto for memory. */
  cipher?: AeadCipher;
  keyCacheSize?: number;
}

/** Either the options, or a shredder built with `createCryptoShredder` (shared with consumers). */
export type PersonalDataOption = PersonalDataStoreOptions | CryptoShredder;

/** Appends the stored (encrypted) events; `plain` is what inline projections see instead. */
export type AppendWithPlaintext = (
  streamId: string,
  stored: readonly EventData[],
  options: AppendOptions | undefined,
  plain: readonly EventData[],
) => Promise<AppendResult>;

/** The data of the `PersonalDataForgotten` event a store's `forget` records. */
export interface PersonalDataForgottenData {
  subject: string;
  forgottenAt: string;
}

/**
 * True for the `PersonalDataForgotten` event: a projection that keeps personal data in a
 * read model lists that type in `eventTypes` and drops or anonymises the subject's rows.
 *
 * @example
 * handle(e, docs) {
 *   if (isPersonalDataForgotten(e)) return docs.delete('users', e.data.subject);
 *   ...
 * }
 */
export function isPersonalDataForgotten<E extends { type: string; data: unknown }>(
  event: E,
): event is E & { type: 'PersonalDataForgotten'; data: PersonalDataForgottenData } {
  return (
    event.type === PERSONAL_DATA_FORGOTTEN &&
    typeof (event.data as { subject?: unknown } | null)?.subject === 'string'
  );
}

/** The stream where the forgetting of `subject` is recorded. */
export const forgottenStreamId = (subject: string): string => `personal-data-${subject}`;

/**
 * For stores: the shredder a `personalData` option stands for, and whether the store owns
 * (and so closes) its key store.
 */
export function resolvePersonalData(
  option: PersonalDataOption,
  defaults: { keyStore: () => KeyStore; cipher?: () => AeadCipher },
): { shredder: CryptoShredder; ownedKeyStore?: KeyStore } {
  if (typeof (option as CryptoShredder | undefined)?.encryptEvents === 'function') {
    return { shredder: option as CryptoShredder };
  }
  const o = option as PersonalDataStoreOptions;
  if (typeof o !== 'object' || o === null || typeof o.policy?.ruleFor !== 'function') {
    throw new ValidationError(
      'options.personalData.policy',
      "must be a declaration made with personalData({...}), e.g. { policy: personalData<MyEvents>({ UserRegistered: { subject: (e) => e.data.userId, fields: ['email'] } }), keyEncryptionKey }",
    );
  }
  const ownedKeyStore = o.keyStore === undefined ? defaults.keyStore() : undefined;
  const cipher = o.cipher ?? defaults.cipher?.();
  return {
    shredder: createCryptoShredder({
      personalData: o.policy,
      keyStore: o.keyStore ?? ownedKeyStore!,
      keyEncryptionKey: o.keyEncryptionKey,
      ...(o.previousKeyEncryptionKeys
        ? { previousKeyEncryptionKeys: o.previousKeyEncryptionKeys }
        : {}),
      ...(cipher ? { cipher } : {}),
      ...(o.keyCacheSize !== undefined ? { keyCacheSize: o.keyCacheSize } : {}),
    }),
    ...(ownedKeyStore ? { ownedKeyStore } : {}),
  };
}

/**
 * For stores: applies a `personalData` option (none: the store as is). The store's own
 * key store and cipher are the defaults; `appendWithPlaintext` feeds its inline projections.
 */
export function applyPersonalDataOption<S extends EventStore>(
  store: S,
  option: PersonalDataOption | undefined,
  defaults: { keyStore: () => KeyStore; cipher?: () => AeadCipher },
  appendWithPlaintext?: AppendWithPlaintext,
): S | (S & CryptoShreddingEventStore) {
  if (option === undefined) return store;
  const { shredder, ownedKeyStore } = resolvePersonalData(option, defaults);
  return {
    ...store,
    ...attachPersonalData(store, shredder, {
      ...(appendWithPlaintext ? { appendWithPlaintext } : {}),
      ...(ownedKeyStore ? { ownedKeyStore } : {}),
    }),
  };
}

/** Whatever a copy leaving the process must read: the sealed stored form when there is one. */
export function storedFormOf(store: EventStore): EventStore {
  return (store as Partial<CryptoShreddingEventStore>).storedForm ?? store;
}

/**
 * Wraps any event store so that declared personal fields are encrypted before they are
 * stored, and everything read — `readStream`, `readAll`, subscription handlers and all that
 * is built on them (command handlers, aggregates, projections, rebuilds, upcasters wrapped
 * around this store) — sees plaintext, or {@link ERASED} once the subject was forgotten.
 * Prefer the stores' own `personalData` option: with it, inline projections (which run inside
 * the store's append) see plaintext too; through this wrapper they see the stored form.
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
  return attachPersonalData(store, shredder);
}

/**
 * For stores: the personal-data layer over a store's stored form. `appendWithPlaintext`
 * lets the store hand inline projections the plaintext of what it stores.
 */
export function attachPersonalData(
  store: EventStore,
  shredder: CryptoShredder,
  hooks: { appendWithPlaintext?: AppendWithPlaintext; ownedKeyStore?: KeyStore } = {},
): CryptoShreddingEventStore {
  const { appendWithPlaintext, ownedKeyStore } = hooks;
  return {
    ...mapReads(store, (events) => shredder.decryptEvents(events)),
    shredder,
    storedForm: store,
    async appendToStream(streamId, events, options) {
      const stored = await shredder.encryptEvents(streamId, events);
      if (appendWithPlaintext === undefined || !Array.isArray(stored)) {
        return store.appendToStream(streamId, stored, options);
      }
      // Sealed events stand for the caller's; the rest (forgotten subjects) as stored.
      const plain = stored.map((e, i) =>
        isEncryptedValue((e?.data as Record<string, unknown> | null)?.[PERSONAL_DATA_FIELD])
          ? { ...events[i]!, id: e.id }
          : e,
      );
      return appendWithPlaintext(streamId, stored, options, plain);
    },
    subscribe(options: SubscribeOptions) {
      const handler = handlerOf(options);
      return store.subscribe(
        perEventOptions(options, async (event, context) =>
          handler(await shredder.decryptEvent(event), context),
        ),
      );
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
    async close() {
      await store.close();
      await ownedKeyStore?.close();
    },
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
