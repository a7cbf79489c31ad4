import { type ChangeStream, type Db, MongoClient, type MongoClientOptions } from 'mongodb';
import {
  checkExpectedVersion,
  resolveReappend,
  type StoredEventRef,
  type StreamPlace,
} from '../core/appendRules.js';
import { backoffDelay, errorMessage, Notifier, sleep } from '../core/async.js';
import {
  ConcurrencyError,
  ConfigurationError,
  StoreClosedError,
  StoreUnavailableError,
  ValidationError,
} from '../core/errors.js';
import {
  applyPersonalDataOption,
  type CryptoShreddingEventStore,
  type PersonalDataOption,
} from '../core/cryptoShredding.js';
import { createNodeCipher } from '../node/nodeCipher.js';
import { newEventId } from '../core/eventId.js';
import { type Logger, noopLogger } from '../core/logger.js';
import { withStoreTracing } from '../core/storeTracing.js';
import { createSubscriptionHost } from '../core/subscription.js';
import type {
  AppendOptions,
  AppendResult,
  CheckpointStore,
  DeleteStreamOptions,
  EventData,
  EventStore,
  ExpectedVersion,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  SnapshotStore,
  StreamInfo,
  Subscription,
  SubscribeOptions,
} from '../core/types.js';
import {
  LIMITS,
  normalizeEvents,
  type NormalizedEvent,
  validateExpectedVersion,
  validateReadAllOptions,
  validateReadStreamOptions,
  validateStreamId,
  validateWriteOptions,
} from '../core/validation.js';
import { createMongoCheckpointStore } from './mongoCheckpointStore.js';
import {
  definitelyNotWritten,
  describeHosts,
  duplicateKeyIndex,
  isDuplicateKey,
  translateMongoError,
} from './mongoErrors.js';
import {
  assertFitsOneDocument,
  type CommitDoc,
  collectionsOf,
  ensureIndexes,
  eventsOfCommit as toEvents,
  type MongoCollections,
} from './mongoSchema.js';
import { createMongoGlobalLog } from './mongoGlobalLog.js';
import { createMongoKeyStore } from './mongoKeyStore.js';
import { createMongoSnapshotStore } from './mongoSnapshotStore.js';

export type MongoEventStoreOptions = (
  | { url: string; client?: undefined; clientOptions?: MongoClientOptions }
  | { client: MongoClient; url?: undefined; clientOptions?: undefined }
) & {
  dbName: string;
  /** Prefix of the collections Eventloom creates. Default `'eventloom'`. */
  collectionPrefix?: string;
  /**
   * How long a hole in the global order may stay open before readers close it. A hole is a
   * position a writer allocated but has not committed yet; readers never read past it, so a
   * slow writer cannot make a subscriber skip its event. A writer slower than this has its
   * append refused and retried. Default 5000 ms.
   */
  gapTimeoutMs?: number;
  /** Poll interval for live subscribers when change streams are unavailable. Default 100 ms. */
  pollIntervalMs?: number;
  /** Largest number of events one append may carry. Default 10 000 (and at most 16 MB). */
  maxBatchSize?: number;
  /** Use change streams to wake live subscribers: `'auto'` (default) probes once. */
  changeStreams?: 'auto' | 'off';
  /**
   * Told once about capabilities the server lacks (no change streams, no transactions); the
   * same notice is logged as a warning on `logger`.
   */
  onNotice?: (message: string) => void;
  /** Where notices and warnings are logged. Default: nowhere. */
  logger?: Logger;
  /**
   * Crypto-shredding: declared personal fields are sealed before they are stored (node:crypto,
   * keys in `<prefix>_data_keys` of this database unless `keyStore` is given); every read and
   * subscription sees plaintext. The store then has `forget(subject)`.
   */
  personalData?: PersonalDataOption;
};

export interface MongoCapabilities {
  changeStreams: boolean;
  transactions: boolean;
}

export interface MongoEventStore extends EventStore {
  readonly db: Db;
  readonly client: MongoClient;
  readonly snapshots: SnapshotStore;
  readonly checkpoints: CheckpointStore;
  /** Resolves once connected with indexes in place; rejects with a clear error otherwise. */
  ready(): Promise<void>;
  capabilities(): Promise<MongoCapabilities>;
}

const MAX_APPEND_RETRIES = 20;
const VERSION_CACHE_SIZE = 10_000;

/**
 * The MongoDB event store (official driver; no multi-document transactions needed).
 *
 * - One document per append ("commit"), so multi-event appends are atomic and streams have
 *   no size ceiling. Unique indexes on (streamId, versions) and on event ids turn races into
 *   typed ConcurrencyErrors and retried appends into idempotent no-ops.
 * - Global positions come from a counter; readers never read past an allocated but
 *   uncommitted position (see docs/mongodb-global-order.md), so subscribers never skip an
 *   event that a slower writer commits late.
 *
 * @example
 * const store = createMongoEventStore({ url: process.env.MONGODB_URL!, dbName: 'app' });
 * await store.appendToStream('order-1', [{ type: 'OrderPlaced', data: { total: 5 } }]);
 */
export function createMongoEventStore(
  options: MongoEventStoreOptions & { personalData: PersonalDataOption },
): MongoEventStore & CryptoShreddingEventStore;
export function createMongoEventStore(options: MongoEventStoreOptions): MongoEventStore;
export function createMongoEventStore(
  options: MongoEventStoreOptions,
): MongoEventStore | (MongoEventStore & CryptoShreddingEventStore) {
  if (typeof options !== 'object' || options === null) {
    throw new ValidationError('options', 'must be an object { url | client, dbName }');
  }
  if (
    typeof options.dbName !== 'string' ||
    options.dbName.length === 0 ||
    /[/\\. "$]/.test(options.dbName)
  ) {
    throw new ValidationError(
      'options.dbName',
      `must be a MongoDB database name without / \\ . " $ or spaces; got ${JSON.stringify(options.dbName)}`,
    );
  }
  if (!options.client && typeof options.url !== 'string') {
    throw new ValidationError(
      'options.url',
      'is required when no client is given, e.g. mongodb://127.0.0.1:27017',
    );
  }
  const hosts = describeHosts(options.url);
  const ownsClient = !options.client;
  let client: MongoClient;
  try {
    client =
      options.client ??
      new MongoClient(options.url, {
        // Fail fast on an unreachable server, unless the URL says otherwise.
        ...(/serverSelectionTimeoutMS=/i.test(options.url)
          ? {}
          : { serverSelectionTimeoutMS: 5000 }),
        ...(/connectTimeoutMS=/i.test(options.url) ? {} : { connectTimeoutMS: 5000 }),
        ...options.clientOptions,
      });
  } catch (error) {
    throw new ConfigurationError(
      `Invalid MongoDB URL ${JSON.stringify(options.url)}: ${errorMessage(error)}. Expected mongodb://host:port or mongodb+srv://host`,
      { cause: error },
    );
  }
  const db = client.db(options.dbName);
  const c: MongoCollections = collectionsOf(db, options.collectionPrefix ?? 'eventloom');
  const gapTimeoutMs = options.gapTimeoutMs ?? 5000;
  const maxBatchSize = options.maxBatchSize ?? LIMITS.maxBatchSize;
  const notifier = new Notifier();
  const versionCache = new Map<string, number>();
  let closed = false;
  let changeStream: ChangeStream | undefined;
  let caps: MongoCapabilities | undefined;

  const log = (options.logger ?? noopLogger).child({ component: 'mongodb' });
  const notice = (message: string): void => {
    log.warn({ dbName: options.dbName }, message);
    options.onNotice?.(message);
  };

  const globalLog = createMongoGlobalLog(c, { gapTimeoutMs, notice });

  const init = (async (): Promise<void> => {
    try {
      if (ownsClient) await client.connect();
      await ensureIndexes(c);
    } catch (error) {
      throw translateMongoError(
        error,
        `Connecting to MongoDB (database '${options.dbName}')`,
        hosts,
      );
    }
  })();
  // Failures surface on the first call that awaits `ready()`; do not crash the process here.
  init.catch(() => undefined);
  const ready = (): Promise<void> => {
    if (closed) return Promise.reject(new StoreClosedError('MongoDB event store'));
    return init;
  };

  const run = async <T>(context: string, fn: () => Promise<T>): Promise<T> => {
    await ready();
    try {
      return await fn();
    } catch (error) {
      throw translateMongoError(error, context, hosts);
    }
  };

  /** The last queued append of each stream of this process. */
  const streamQueues = new Map<string, Promise<void>>();
  /**
   * Runs this process's appends to one stream one after the other. Concurrent appends to one
   * stream would otherwise race for the same version: all but one would allocate positions
   * only to collide and retry. Queued, each sees its predecessor's version and none collides;
   * only writers in other processes can still race (and are retried).
   */
  const oneAtATime = <T>(streamId: string, fn: () => Promise<T>): Promise<T> => {
    const result = (streamQueues.get(streamId) ?? Promise.resolve()).then(fn);
    const settledTail = result.then(
      () => undefined,
      () => undefined,
    );
    streamQueues.set(streamId, settledTail);
    void settledTail.then(() => {
      if (streamQueues.get(streamId) === settledTail) streamQueues.delete(streamId);
    });
    return result;
  };

  const rememberVersion = (streamId: string, version: number): void => {
    versionCache.delete(streamId);
    versionCache.set(streamId, version);
    if (versionCache.size > VERSION_CACHE_SIZE) {
      versionCache.delete(versionCache.keys().next().value as string);
    }
  };

  const currentVersion = async (streamId: string): Promise<number> => {
    const last = await c.log
      .find({ streamId }, { projection: { lastVersion: 1 } })
      .sort({ lastVersion: -1 })
      .limit(1)
      .next();
    return (last as CommitDoc | null)?.lastVersion ?? 0;
  };

  /** A stream's version and deletion point: what an append is checked against. */
  const placeOf = async (streamId: string): Promise<StreamInfo & StreamPlace> => {
    const [version, meta] = await Promise.all([
      currentVersion(streamId),
      c.streams.findOne({ _id: streamId }),
    ]);
    const deletedUpTo = meta?.deletedUpTo ?? 0;
    return {
      streamId,
      version,
      deletedUpTo,
      exists: version > deletedUpTo,
      deleted: deletedUpTo > 0 && version === deletedUpTo,
    };
  };

  const infoOf = async (streamId: string): Promise<StreamInfo> => {
    const { deletedUpTo: _, ...info } = await placeOf(streamId);
    return info;
  };

  const storedRefs = async (ids: string[]): Promise<StoredEventRef[]> => {
    const docs = await c.log
      // Only on the error path; no projection into the events array (not every
      // wire-compatible server supports nested array projections).
      .find({ eventIds: { $in: ids } })
      .toArray();
    const wanted = new Set(ids);
    const refs: StoredEventRef[] = [];
    for (const d of docs) {
      if ('gap' in d) continue;
      toEvents(d).forEach((e) => {
        if (wanted.has(e.id)) refs.push({ ...e, data: JSON.stringify(e.data) });
      });
    }
    return refs;
  };

  /**
   * Where the next commit of `streamId` starts, checked before any position is allocated so
   * that an append bound to fail burns none. Returns a result instead when the batch is
   * already stored there (a retry); throws the conflict otherwise.
   */
  const startOf = async (
    streamId: string,
    expected: ExpectedVersion,
    batch: NormalizedEvent[],
  ): Promise<number | AppendResult> => {
    if (typeof expected === 'number') {
      // Versions never move backwards, so the version this process last wrote is a lower
      // bound; when it equals the expectation the unique index is the only check needed.
      const known = versionCache.get(streamId);
      if (known === expected) return expected;
      if (known === undefined || known < expected) {
        const version = await currentVersion(streamId);
        if (version === expected) return expected;
      }
      return reappendOrConflict(streamId, expected, batch, await placeOf(streamId));
    }
    if (expected === 'no_stream') {
      // A stream that never had a version cannot be deleted: one read decides the common case.
      const version = await currentVersion(streamId);
      if (version === 0) return 0;
    }
    const place = await placeOf(streamId);
    if (
      (expected === 'no_stream' && place.exists) ||
      (expected === 'stream_exists' && !place.exists)
    ) {
      return reappendOrConflict(streamId, expected, batch, place);
    }
    return place.version;
  };

  const append = async (
    streamId: string,
    expected: ExpectedVersion,
    batch: NormalizedEvent[],
  ): Promise<AppendResult> => {
    const data = batch.map((e) => ({
      id: e.id,
      type: e.type,
      data: JSON.parse(e.data) as unknown,
      metadata: JSON.parse(e.metadata) as Record<string, unknown>,
    }));
    const ids = batch.map((e) => e.id);
    const commitOf = (first: number, start: number): CommitDoc => ({
      _id: first,
      lastPosition: first + batch.length - 1,
      streamId,
      firstVersion: start + 1,
      lastVersion: start + batch.length,
      versions: batch.map((_, i) => start + 1 + i),
      eventIds: ids,
      events: data,
      recordedAt: new Date(),
    });
    assertFitsOneDocument(commitOf(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER));
    let startHint: number | undefined;
    let lostPositions = 0;
    for (let attempt = 1; ; attempt++) {
      let start: number;
      if (startHint !== undefined) start = startHint;
      else {
        const decided = await startOf(streamId, expected, batch);
        if (typeof decided !== 'number') return decided;
        start = decided;
      }
      const last = await globalLog.reserve(batch.length);
      const doc = commitOf(last - batch.length + 1, start);
      try {
        await c.log.insertOne(doc);
        rememberVersion(streamId, doc.lastVersion);
        notifier.notify();
        return { nextExpectedVersion: doc.lastVersion, lastPosition: last };
      } catch (error) {
        if (!isDuplicateKey(error)) {
          // A refused write leaves nothing behind: mark its positions at once. An unknown
          // outcome (e.g. a network error after the server wrote it) must not be marked, as
          // that could hide a committed event; readers close that hole if it stays empty.
          if (definitelyNotWritten(error)) await globalLog.release(doc._id, last);
          throw error;
        }
        await globalLog.release(doc._id, last);
        const index = duplicateKeyIndex(error) ?? '';
        if (index === '_id_' || index === '_id') {
          // Our positions were closed as a stale hole while we were slow: nothing was
          // written, so allocate again.
          if (++lostPositions >= MAX_APPEND_RETRIES)
            throw new StoreUnavailableError(
              `Append to '${streamId}' kept losing its positions; the server is too slow (gapTimeoutMs ${gapTimeoutMs})`,
            );
          continue;
        }
        // Either our ids are already stored (a re-append) or another process moved the stream
        // on under us (appends of this process to one stream are serialized).
        versionCache.delete(streamId);
        const place = await placeOf(streamId);
        const reappend = await reappendOf(streamId, expected, batch, place);
        if (reappend) return reappend;
        if (
          expected === 'any' ||
          (expected === 'no_stream' && !place.exists) ||
          (expected === 'stream_exists' && place.exists)
        ) {
          // Still allowed at the new version ('no_stream' on a deleted stream continues its
          // versions). Every collision means another writer committed, so the writers as a
          // whole always progress; the backoff only spreads out a crowd on one stream.
          startHint = place.version;
          if (attempt > 2)
            await sleep(backoffDelay(attempt - 2, { initialDelayMs: 2, maxDelayMs: 200 }));
          continue;
        }
        throw new ConcurrencyError(streamId, expected, place.version, { cause: error });
      }
    }
  };

  /** The original result when `batch` was already appended at this place, else undefined. */
  const reappendOf = async (
    streamId: string,
    expected: ExpectedVersion,
    batch: NormalizedEvent[],
    place: StreamPlace,
  ): Promise<AppendResult | undefined> =>
    resolveReappend(streamId, expected, batch, await storedRefs(batch.map((e) => e.id)), place);

  const reappendOrConflict = async (
    streamId: string,
    expected: ExpectedVersion,
    batch: NormalizedEvent[],
    place: StreamInfo & StreamPlace,
  ): Promise<AppendResult> => {
    const reappend = await reappendOf(streamId, expected, batch, place);
    if (reappend) return reappend;
    throw new ConcurrencyError(streamId, expected, place.version);
  };

  /** Change streams only wake live subscribers sooner; polling alone is still correct. */
  const startChangeStream = (): void => {
    if (options.changeStreams === 'off') return;
    try {
      const stream = c.log.watch([{ $match: { operationType: 'insert' } }], {
        maxAwaitTimeMS: 1000,
      });
      stream.on('change', () => notifier.notify());
      stream.on('error', (error) => {
        if (changeStream === stream) changeStream = undefined;
        void stream.close().catch(() => undefined);
        if (!closed) {
          notice(
            `MongoDB at ${hosts}: change streams unavailable (${errorMessage(error)}); live subscribers poll every ${options.pollIntervalMs ?? 100} ms`,
          );
        }
      });
      changeStream = stream;
    } catch (error) {
      notice(
        `MongoDB at ${hosts}: change streams unavailable (${errorMessage(error)}); live subscribers poll`,
      );
    }
  };

  const capabilities = async (): Promise<MongoCapabilities> => {
    if (caps) return caps;
    await ready();
    let transactions = false;
    try {
      const session = client.startSession();
      await session.endSession();
      const hello = (await db.admin().command({ hello: 1 })) as { setName?: string; msg?: string };
      transactions = hello.setName !== undefined || hello.msg === 'isdbgrid';
    } catch {
      transactions = false;
    }
    caps = { changeStreams: changeStream !== undefined, transactions };
    if (!transactions) {
      notice(
        `MongoDB at ${hosts} offers no multi-document transactions; Eventloom does not need them (appends are single-document commits)`,
      );
    }
    return caps;
  };

  let liveWakeup: Promise<void> | undefined;

  const checkpoints = createMongoCheckpointStore(c.checkpoints, c.parked, ready);
  const host = createSubscriptionHost(
    {
      readAll: (o) => store.readAll(o),
      headPosition: () => store.headPosition(),
      checkpoints,
      notifier,
    },
    { pollIntervalMs: options.pollIntervalMs },
  );

  const store: MongoEventStore = {
    db,
    client,
    ready,
    capabilities,
    checkpoints,
    snapshots: createMongoSnapshotStore(c.snapshots, ready),

    appendToStream(
      streamId: string,
      events: readonly EventData[],
      opts: AppendOptions = {},
    ): Promise<AppendResult> {
      return run(`Appending to stream '${String(streamId)}'`, async () => {
        validateStreamId(streamId);
        validateWriteOptions(opts);
        const expected = opts.expectedVersion ?? 'any';
        validateExpectedVersion(expected);
        const batch = normalizeEvents(events, newEventId, maxBatchSize);
        return oneAtATime(streamId, () => append(streamId, expected, batch));
      });
    },

    readStream(streamId: string, opts: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
      return run(`Reading stream '${String(streamId)}'`, async () => {
        validateStreamId(streamId);
        validateReadStreamOptions(opts);
        const meta = await c.streams.findOne({ _id: streamId });
        const deletedUpTo = meta?.deletedUpTo ?? 0;
        const max = opts.maxCount ?? Infinity;
        const out: RecordedEvent[] = [];
        if (max === 0) return out;
        const backwards = opts.direction === 'backwards';
        const from = opts.from ?? (backwards ? Number.MAX_SAFE_INTEGER : 1);
        const filter = backwards
          ? { streamId, firstVersion: { $lte: from }, lastVersion: { $gt: deletedUpTo } }
          : { streamId, lastVersion: { $gte: Math.max(from, deletedUpTo + 1) } };
        const cursor = c.log.find(filter).sort({ lastVersion: backwards ? -1 : 1 });
        try {
          for await (const d of cursor) {
            const events = toEvents(d).filter(
              (e) => e.version > deletedUpTo && (backwards ? e.version <= from : e.version >= from),
            );
            if (backwards) events.reverse();
            for (const e of events) {
              out.push(e);
              if (out.length >= max) return out;
            }
          }
        } finally {
          await cursor.close();
        }
        return out;
      });
    },

    readAll(opts: ReadAllOptions = {}): Promise<RecordedEvent[]> {
      return run('Reading all events', async () => {
        validateReadAllOptions(opts);
        if (opts.maxCount === 0) return [];
        return globalLog.read(opts.from ?? 0, opts.maxCount);
      });
    },

    streamInfo(streamId: string): Promise<StreamInfo> {
      return run(`Reading stream info of '${String(streamId)}'`, async () => {
        validateStreamId(streamId);
        return infoOf(streamId);
      });
    },

    deleteStream(streamId: string, opts: DeleteStreamOptions = {}): Promise<void> {
      return run(`Deleting stream '${String(streamId)}'`, async () => {
        validateStreamId(streamId);
        validateWriteOptions(opts);
        const expected = opts.expectedVersion ?? 'any';
        validateExpectedVersion(expected);
        const info = await infoOf(streamId);
        checkExpectedVersion(streamId, expected, info);
        await c.streams.updateOne(
          { _id: streamId },
          { $max: { deletedUpTo: info.version } },
          { upsert: true },
        );
      });
    },

    headPosition(): Promise<number> {
      return run('Reading the head position', () => globalLog.head());
    },

    subscribe(subOptions: SubscribeOptions): Subscription {
      if (closed) throw new StoreClosedError('MongoDB event store');
      liveWakeup ??= ready().then(startChangeStream, () => undefined);
      return host.subscribe(subOptions);
    },

    async close(): Promise<void> {
      if (closed) return;
      await host.stopAll();
      closed = true;
      await changeStream?.close().catch(() => undefined);
      if (ownsClient) await client.close();
    },
  };
  return withStoreTracing(
    applyPersonalDataOption(store, options.personalData, {
      keyStore: () =>
        createMongoKeyStore(db, { collectionPrefix: options.collectionPrefix ?? 'eventloom' }),
      cipher: createNodeCipher,
    }),
    'mongodb',
  );
}
