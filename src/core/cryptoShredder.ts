import { ConfigurationError, TamperedDataError, ValidationError } from './errors.js';
import { newEventId } from './eventId.js';
import {
  type AeadCipher,
  type CipherKey,
  createWebCryptoCipher,
  type MaybePromise,
} from './cipher.js';
import {
  type DataKeyRecord,
  type ForgetOutcome,
  type KeyEncryptionKey,
  type KeyStore,
} from './keyStore.js';
import type { PersonalDataPolicy } from './personalData.js';
import type { EventData, RecordedEvent } from './types.js';

/** What a personal field reads as once its subject was forgotten: stable, never an error. */
export const ERASED = '[erased]';

/**
 * The key of `data` that holds an event's encrypted personal fields in the stored form: the
 * declared fields are taken out of `data` and sealed together, one ciphertext per event.
 */
export const PERSONAL_DATA_FIELD = '_personal';

/** The stored form of sealed personal data (AES-256-GCM). */
export interface EncryptedValue {
  enc: 'aes256gcm.v2';
  /** The data subject whose key encrypted it. */
  sub: string;
  /** Id of that subject's data key. */
  kid: string;
  /** base64 of `iv ‖ ciphertext ‖ tag`. */
  ct: string;
  /** In an event: the names of the sealed fields (not personal), so they read as {@link ERASED} once forgotten. */
  fields?: string[];
}

/** True for a value in the stored encrypted form ({@link EncryptedValue}). */
export function isEncryptedValue(value: unknown): value is EncryptedValue {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    v.enc === 'aes256gcm.v2' &&
    typeof v.sub === 'string' &&
    typeof v.kid === 'string' &&
    typeof v.ct === 'string'
  );
}

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
  /**
   * AES-256-GCM implementation. Default: WebCrypto ({@link createWebCryptoCipher}); the SQLite
   * and MongoDB stores pass the faster synchronous node:crypto one (`createNodeCipher`).
   */
  cipher?: AeadCipher;
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
 * Encrypts and decrypts personal fields with per-subject data keys. Usually used through a
 * store's `personalData` option (or `withCryptoShredding`); a consumer in the same trust
 * domain (Kafka, relay) uses `decryptEvent` with the same key store and key-encryption key.
 */
export interface CryptoShredder {
  readonly personalData: PersonalDataPolicy;
  readonly keyStore: KeyStore;
  /** Seals the declared personal fields of each event into one ciphertext; assigns missing event ids, which the ciphertexts are bound to. */
  encryptEvents(streamId: string, events: readonly EventData[]): Promise<EventData[]>;
  /** Opens an event's sealed personal fields; a forgotten subject's fields read as {@link ERASED}. */
  decryptEvent<E extends RecordedEvent>(event: E): Promise<E>;
  /** {@link decryptEvent} for a page of events, without a promise per event when the keys are cached. */
  decryptEvents<E extends RecordedEvent>(events: readonly E[]): Promise<E[]>;
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

type ActiveKey = { state: 'active'; keyId: string; key: CipherKey };
type CachedKey = ActiveKey | { state: 'forgotten' };
type Opened = { erased: false; value: unknown } | { erased: true };

const HOW_TO_MAKE =
  "generate one with: node -e \"console.log(require('crypto').randomBytes(32).toString('base64'))\"";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

const isPromise = <T>(v: MaybePromise<T>): v is Promise<T> =>
  typeof (v as { then?: unknown } | null)?.then === 'function';
const then = <T, U>(v: MaybePromise<T>, f: (t: T) => MaybePromise<U>): MaybePromise<U> =>
  isPromise(v) ? v.then(f) : f(v);
const all = <T>(vs: MaybePromise<T>[]): MaybePromise<T[]> =>
  vs.some(isPromise) ? Promise.all(vs) : (vs as T[]);

/**
 * Creates the crypto-shredding engine: AES-256-GCM, all personal fields of an event sealed
 * together and bound to (event id, subject) so a ciphertext copied elsewhere fails, with a
 * synthetic IV so the same event always seals to the same bytes (idempotent re-appends); per-subject data keys wrapped with AES-256-GCM by the key-encryption key.
 *
 * @example
 * const shredder = createCryptoShredder({
 *   personalData: userPersonalData,
 *   keyStore: createSqliteKeyStore(sqliteStore.database),
 *   keyEncryptionKey: parseKeyEncryptionKey(process.env.EVENTLOOM_MASTER_KEY, 'EVENTLOOM_MASTER_KEY'),
 *   cipher: createNodeCipher(),
 * });
 * const store = withCryptoShredding(sqliteStore, shredder);
 */
export function createCryptoShredder(options: CryptoShredderOptions): CryptoShredder {
  const policy = options.personalData;
  const keyStore = options.keyStore;
  const cipher = options.cipher ?? createWebCryptoCipher();
  checkKek(options.keyEncryptionKey, 'keyEncryptionKey');
  (options.previousKeyEncryptionKeys ?? []).forEach((k, i) =>
    checkKek(k, `previousKeyEncryptionKeys[${i}]`),
  );
  const now = options.now ?? (() => new Date());
  const cacheSize = Math.max(1, options.keyCacheSize ?? 10_000);
  const cache = new Map<string, CachedKey>();
  const loading = new Map<string, Promise<CachedKey | undefined>>();

  const importKek = async (k: KeyEncryptionKey): Promise<[string, CipherKey]> => {
    const id =
      k.id ??
      hex(
        (await cipher.sha256(concat(encoder.encode('eventloom-kek-id:'), k.bytes))).subarray(0, 8),
      );
    return [id, await cipher.importKey(k.bytes)];
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
    if (entry.state === 'forgotten') forgetPlaintexts(subject);
    return entry;
  };

  // The personal fields of the events last sealed or opened here, by ciphertext: every
  // subscriber of a store decrypts each new event again (a tweet reaches several projections
  // and services), and the process that appended it knows its plaintext already. An entry
  // serves only the very ciphertext, event and key it came from, and only while that key is
  // cached as active (checked first, as for a real decryption): a forget drops the subject's
  // entries with its key, so nothing is readable from here that decryption would refuse.
  const plaintexts = new Map<string, { sub: string; kid: string; context: string; json: string }>();
  const keepPlaintext = (sealed: EncryptedValue, context: string, json: string): void => {
    plaintexts.set(sealed.ct, { sub: sealed.sub, kid: sealed.kid, context, json });
    if (plaintexts.size > PLAINTEXT_CACHE_SIZE) plaintexts.delete(plaintexts.keys().next().value!);
  };
  const knownPlaintext = (sealed: EncryptedValue, context: string): string | undefined => {
    const known = plaintexts.get(sealed.ct);
    return known !== undefined &&
      known.context === context &&
      known.sub === sealed.sub &&
      known.kid === sealed.kid
      ? known.json
      : undefined;
  };
  function forgetPlaintexts(subject: string): void {
    for (const [ct, known] of plaintexts) if (known.sub === subject) plaintexts.delete(ct);
  }

  const wrapAad = (subject: string, keyId: string): Uint8Array =>
    encoder.encode(`eventloom-data-key\u0000${subject}\u0000${keyId}`);

  const wrap = async (subject: string, keyId: string, raw: Uint8Array) => {
    const { current } = await keks;
    const wrappedKey = await cipher.seal(current[1], wrapAad(subject, keyId), raw);
    return { kekId: current[0], wrappedKey: Uint8Array.from(wrappedKey) };
  };

  const unwrapRaw = async (record: {
    subject: string;
    keyId: string;
    kekId: string;
    wrappedKey: Uint8Array;
  }) => {
    const { all: kekById } = await keks;
    const kek = kekById.get(record.kekId);
    if (kek === undefined) {
      throw new ConfigurationError(
        `The data key of subject '${record.subject}' is wrapped by key-encryption key '${record.kekId}', which is not configured; pass it in previousKeyEncryptionKeys (then run rotateKeyEncryptionKey)`,
      );
    }
    try {
      return await cipher.open(kek, wrapAad(record.subject, record.keyId), record.wrappedKey);
    } catch (error) {
      throw new TamperedDataError(
        `The stored data key of subject '${record.subject}' failed authentication: it was altered or belongs to another subject`,
        { cause: error, details: { subject: record.subject } },
      );
    }
  };

  const fromRecord = async (record: DataKeyRecord | undefined): Promise<CachedKey | undefined> => {
    if (record === undefined) return undefined;
    if (record.state === 'forgotten') return { state: 'forgotten' };
    return {
      state: 'active',
      keyId: record.keyId,
      key: await cipher.importKey(await unwrapRaw(record)),
    };
  };

  const once = (subject: string, load: () => Promise<CachedKey | undefined>) => {
    let pending = loading.get(subject);
    if (pending === undefined) {
      pending = load()
        .then((entry) => (entry === undefined ? undefined : remember(subject, entry)))
        .finally(() => loading.delete(subject));
      loading.set(subject, pending);
    }
    return pending;
  };

  // Re-inserting a hit keeps the least recently used first, which only matters once the
  // cache is full: below that, a hit costs one lookup (a page of reads makes one per event).
  const touch = (subject: string, hit: CachedKey): CachedKey =>
    cache.size < cacheSize ? hit : remember(subject, hit);

  // A cache hit stays synchronous: that is what keeps a page of reads free of promises.
  const keyForRead = (subject: string): MaybePromise<CachedKey | undefined> => {
    const hit = cache.get(subject);
    if (hit !== undefined) return touch(subject, hit);
    return once(subject, async () => fromRecord(await keyStore.get(subject)));
  };

  const loadOrCreate = async (subject: string): Promise<CachedKey> => {
    const existing = await fromRecord(await keyStore.get(subject));
    if (existing !== undefined) return existing;
    const raw = cipher.randomBytes(32);
    const keyId = newEventId();
    const stored = await keyStore.create({
      subject,
      keyId,
      ...(await wrap(subject, keyId, raw)),
      createdAt: now(),
    });
    // A racing process may have created the key first: use whatever the store kept.
    if (stored.state === 'active' && stored.keyId === keyId) {
      return { state: 'active', keyId, key: await cipher.importKey(raw) };
    }
    return (await fromRecord(stored))!;
  };

  const keyForWrite = (subject: string): MaybePromise<CachedKey> => {
    const hit = cache.get(subject);
    if (hit !== undefined) return touch(subject, hit);
    // A read already under way may find no key (undefined); then load again, creating it.
    const load = async (): Promise<CachedKey> => {
      for (;;) {
        const entry = await once(subject, () => loadOrCreate(subject));
        if (entry !== undefined) return entry;
      }
    };
    return load();
  };

  const aad = (context: string, subject: string): Uint8Array =>
    encoder.encode(`v2\u0000${context}\u0000${subject}`);

  // Events are sealed with a synthetic IV (see AeadCipher.seal): re-appending an event under
  // its id must store the very same bytes, or the store's idempotent re-append (command
  // retries with deterministic ids) would refuse it as different data. This is safe: the IV
  // is a PRF of (event id, subject, plaintext) under a key derived from the subject's data
  // key, so two different messages never share an IV (up to a 2^-96 collision chance per
  // pair, as with random IVs), and the only thing it reveals is that two ciphertexts carry
  // the same plaintext for the same event id and subject: i.e. that an event was stored
  // twice, which the event id already says.
  const sealWith = (
    entry: ActiveKey,
    subject: string,
    context: string,
    json: string,
    synthetic: boolean,
  ): MaybePromise<EncryptedValue> =>
    then(
      cipher.seal(entry.key, aad(context, subject), encoder.encode(json), synthetic),
      (sealed) => ({
        enc: 'aes256gcm.v2' as const,
        sub: subject,
        kid: entry.keyId,
        ct: cipher.toBase64(sealed),
      }),
    );

  const sealValue = async (subject: string, context: string, value: unknown) => {
    const entry = await keyForWrite(subject);
    return entry.state === 'active'
      ? sealWith(entry, subject, context, JSON.stringify(value), false)
      : undefined;
  };

  /** @param remembered events only: use and keep the plaintext cache. */
  const openWith = (
    sealed: EncryptedValue,
    context: string,
    what: string,
    remembered = false,
  ): MaybePromise<Opened> =>
    then(keyForRead(sealed.sub), (entry): MaybePromise<Opened> => {
      // No key, a forgotten one, or another key than the one that sealed it: the data is gone.
      if (entry?.state !== 'active' || entry.keyId !== sealed.kid) return { erased: true };
      const known = remembered ? knownPlaintext(sealed, context) : undefined;
      if (known !== undefined) return { erased: false, value: JSON.parse(known) as unknown };
      const tampered = (error: unknown) =>
        new TamperedDataError(
          `${what} failed authentication: the ciphertext was altered or copied from another event`,
          { cause: error, details: { subject: sealed.sub } },
        );
      let plain: MaybePromise<Uint8Array>;
      try {
        plain = cipher.open(entry.key, aad(context, sealed.sub), cipher.fromBase64(sealed.ct));
      } catch (error) {
        throw tampered(error);
      }
      const parse = (bytes: Uint8Array): Opened => {
        const json = decoder.decode(bytes);
        const value = JSON.parse(json) as unknown;
        if (remembered) keepPlaintext(sealed, context, json);
        return { erased: false, value };
      };
      return isPromise(plain)
        ? plain.then(parse, (error: unknown) => {
            throw tampered(error);
          })
        : parse(plain);
    });

  const openValue = async (sealed: EncryptedValue, context: string, what: string) =>
    openWith(sealed, context, what);

  const eventContext = (eventId: string): string => `event\u0000${eventId}`;

  const encryptEvent = (
    streamId: string,
    event: EventData,
    index: number,
  ): MaybePromise<EventData> => {
    const rule = policy.ruleFor(event?.type);
    if (rule === undefined || typeof event.data !== 'object' || event.data === null) return event;
    const data = event.data as Record<string, unknown>;
    if (PERSONAL_DATA_FIELD in data) {
      throw new ValidationError(
        `events[${index}].data.${PERSONAL_DATA_FIELD}`,
        `is reserved for the encrypted personal fields of ${event.type}; rename that field`,
      );
    }
    const subject = rule.subject({ type: event.type, data, streamId });
    if (typeof subject !== 'string' || subject.length === 0) {
      throw new ValidationError(
        `events[${index}].data`,
        `the personal-data subject of ${event.type} must be a non-empty string (check its subject function in personalData); got ${JSON.stringify(subject)}`,
      );
    }
    const present = rule.fields.filter((f) => data[f] !== undefined);
    if (present.length === 0) return event;
    const id = event.id ?? newEventId();
    return then(keyForWrite(subject), (entry) => {
      if (entry.state !== 'active') {
        // After a forget the subject stays forgotten: late data about them is not kept.
        const out: Record<string, unknown> = { ...data };
        for (const f of present) out[f] = ERASED;
        return { ...event, id, data: out };
      }
      // Built key by key rather than copied and `delete`d: deleting turns the object into a
      // slow dictionary, and this runs once per appended event.
      const out: Record<string, unknown> = {};
      const personal: Record<string, unknown> = {};
      for (const k of Object.keys(data)) if (!present.includes(k)) out[k] = data[k];
      // In declared order, whatever the caller's key order: the sealed bytes depend on it.
      for (const f of present) personal[f] = data[f];
      const context = eventContext(id);
      const json = JSON.stringify(personal);
      return then(sealWith(entry, subject, context, json, true), (sealed) => {
        keepPlaintext(sealed, context, json);
        sealed.fields = present;
        out[PERSONAL_DATA_FIELD] = sealed;
        return { ...event, id, data: out };
      });
    });
  };

  const decryptOne = <E extends RecordedEvent>(event: E): MaybePromise<E> => {
    if (event.type === PERSONAL_DATA_FORGOTTEN) {
      // Another process forgot this subject: drop the key this one may still cache.
      const subject = (event.data as { subject?: unknown } | null)?.subject;
      if (typeof subject === 'string') remember(subject, { state: 'forgotten' });
      return event;
    }
    const data = event.data as Record<string, unknown> | null;
    const sealed =
      typeof data === 'object' && data !== null ? data[PERSONAL_DATA_FIELD] : undefined;
    if (!isEncryptedValue(sealed)) return event;
    return then(
      openWith(
        sealed,
        eventContext(event.id),
        `The personal fields of event ${event.id} (stream '${event.streamId}' version ${event.version})`,
        true,
      ),
      (opened) => {
        const out: Record<string, unknown> = {};
        for (const k of Object.keys(data!)) if (k !== PERSONAL_DATA_FIELD) out[k] = data![k];
        if (opened.erased) {
          for (const f of sealed.fields ?? []) out[f] = ERASED;
        } else {
          Object.assign(out, opened.value as Record<string, unknown>);
        }
        return { ...event, data: out };
      },
    );
  };

  // One promise per page, not per event; a synchronous throw becomes its rejection.
  const decryptEvents = <E extends RecordedEvent>(events: readonly E[]): Promise<E[]> =>
    new Promise((resolve) => resolve(all(events.map((e) => decryptOne(e)))));

  return {
    personalData: policy,
    keyStore,
    encryptEvents: (streamId, events) => {
      // Not an array: left for the store to refuse with its own message.
      if (!Array.isArray(events)) return Promise.resolve(events as EventData[]);
      return new Promise((resolve) =>
        resolve(all(events.map((e: EventData, i) => encryptEvent(streamId, e, i)))),
      );
    },
    decryptEvent: async (event) => decryptOne(event),
    decryptEvents,
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

/** How many events' plaintexts a shredder keeps for their other readers (see `plaintexts`). */
const PLAINTEXT_CACHE_SIZE = 1024;

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
