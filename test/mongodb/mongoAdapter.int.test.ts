import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  ConfigurationError,
  isConcurrencyError,
  isRetryableError,
  isStoreCorruptedError,
  isStoreUnavailableError,
  isValidationError,
  ValidationError,
} from '../../src/core/errors.js';
import type { RecordedEvent } from '../../src/core/types.js';
import { createMongoProjectionTarget } from '../../src/mongodb/mongoDocumentStore.js';
import { createMongoEventStore, type MongoEventStore } from '../../src/mongodb/mongoEventStore.js';
import { projectionContract } from '../contract/projectionContract.js';
import { MONGODB_URL, serviceAvailable, uniqueName } from '../support/services.js';

const available = await serviceAvailable('mongodb');

describe.skipIf(!available)('MongoDB adapter', () => {
  let client: MongoClient;
  const dbs: string[] = [];
  const stores: MongoEventStore[] = [];
  const fresh = (
    extra: { gapTimeoutMs?: number; pollIntervalMs?: number } = {},
    name = uniqueName('el_mongo'),
  ): MongoEventStore => {
    dbs.push(name);
    const store = createMongoEventStore({
      client,
      dbName: name,
      onNotice: () => undefined,
      ...extra,
    });
    stores.push(store);
    return store;
  };

  const monitored: MongoClient[] = [];
  /** A client that reports every command it sends, closed after the suite. */
  const monitoredClient = async (): Promise<MongoClient> => {
    const c = new MongoClient(MONGODB_URL, {
      serverSelectionTimeoutMS: 5000,
      monitorCommands: true,
    });
    monitored.push(c);
    return c.connect();
  };

  beforeAll(async () => {
    client = new MongoClient(MONGODB_URL, { serverSelectionTimeoutMS: 5000 });
    await client.connect();
  });
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    for (const name of dbs) await client.db(name).dropDatabase();
    await Promise.all([client, ...monitored].map((c) => c.close()));
  });

  it('turns a duplicate-key race on the stream/version index into ConcurrencyErrors with both versions', async () => {
    // One store instance per writer, as if each were its own process: appends within one
    // instance are serialized, so only separate instances race to the unique index. The
    // client's command log shows that the index really refused some of their inserts.
    const monitored = await monitoredClient();
    const raceInserts = new Set<number>();
    let refusedByIndex = 0;
    monitored.on('commandStarted', (e) => {
      const docs = (e.command as { documents?: { streamId?: string }[] }).documents;
      if (e.commandName === 'insert' && docs?.[0]?.streamId === 'race-1')
        raceInserts.add(e.requestId);
    });
    monitored.on('commandSucceeded', (e) => {
      const writeErrors = (e.reply as { writeErrors?: { code?: number }[] }).writeErrors;
      if (raceInserts.has(e.requestId) && writeErrors?.some((w) => w.code === 11000))
        refusedByIndex++;
    });
    const name = uniqueName('el_race');
    dbs.push(name);
    const writers = Array.from({ length: 25 }, () =>
      createMongoEventStore({ client: monitored, dbName: name, onNotice: () => undefined }),
    );
    try {
      await Promise.all(writers.map((s) => s.ready()));
      await writers[0]!.appendToStream('race-1', [{ type: 'Opened', data: {} }]);
      const results = await Promise.allSettled(
        writers.map((store, i) =>
          store.appendToStream('race-1', [{ type: 'Renamed', data: { i } }], {
            expectedVersion: 1,
          }),
        ),
      );
      const ok = results.filter((r) => r.status === 'fulfilled');
      const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
      expect(ok).toHaveLength(1);
      expect(failed).toHaveLength(24);
      for (const e of failed) {
        expect(isConcurrencyError(e)).toBe(true);
        expect(e).toMatchObject({ expectedVersion: 1, actualVersion: 2, streamId: 'race-1' });
      }
      expect(refusedByIndex).toBeGreaterThan(0);
      expect((await writers[0]!.readStream('race-1')).map((e) => e.version)).toEqual([1, 2]);
    } finally {
      await Promise.all(writers.map((s) => s.close()));
    }
  });

  it('detects the race across two store instances (two processes) through the unique index', async () => {
    const name = uniqueName('el_two');
    const a = fresh({}, name);
    const b = fresh({}, name);
    await a.appendToStream('shared-1', [{ type: 'Opened', data: {} }]);
    // b has never read the stream: its version cache cannot help it.
    await a.appendToStream('shared-1', [{ type: 'Changed', data: {} }], { expectedVersion: 1 });
    const stale = b.appendToStream('shared-1', [{ type: 'Changed', data: {} }], {
      expectedVersion: 1,
    });
    await expect(stale).rejects.toSatisfy(isConcurrencyError);
    // a's cache says 2: a third writer moves the stream on behind its back.
    await b.appendToStream('shared-1', [{ type: 'Changed', data: {} }], { expectedVersion: 2 });
    await expect(
      a.appendToStream('shared-1', [{ type: 'Changed', data: {} }], { expectedVersion: 2 }),
    ).rejects.toMatchObject({
      code: 'CONCURRENCY_CONFLICT',
      actualVersion: 3,
    });
  });

  it('keeps a stream of 100 000 events with no per-stream size ceiling', async () => {
    const store = fresh();
    const batch = (b: number) =>
      Array.from({ length: 1000 }, (_, i) => ({ type: 'Tick', data: { n: b * 1000 + i } }));
    for (let b = 0; b < 100; b++)
      await store.appendToStream('long-1', batch(b), { expectedVersion: b * 1000 });
    expect(await store.streamInfo('long-1')).toMatchObject({ version: 100_000, exists: true });
    const tail = await store.readStream('long-1', { from: 99_990 });
    expect(tail.map((e) => (e.data as { n: number }).n)).toEqual(
      Array.from({ length: 11 }, (_, i) => 99_989 + i),
    );
    const back = await store.readStream('long-1', { direction: 'backwards', maxCount: 3 });
    expect(back.map((e) => e.version)).toEqual([100_000, 99_999, 99_998]);
    const page = await store.readAll({ from: 50_000, maxCount: 5 });
    expect(page.map((e) => e.position)).toEqual([50_000, 50_001, 50_002, 50_003, 50_004]);
  }, 120_000);

  it('never lets a subscriber skip an event that a slower writer commits after a faster one', async () => {
    // The command log counts the subscriber's reads of the log while it waits at the hole.
    const monitored = await monitoredClient();
    let logReads = 0;
    monitored.on('commandStarted', (e) => {
      if ((e.command as { find?: unknown }).find === 'eventloom_log') logReads++;
    });
    const name = uniqueName('el_hole');
    dbs.push(name);
    const store = createMongoEventStore({
      client: monitored,
      dbName: name,
      onNotice: () => undefined,
      pollIntervalMs: 10,
      gapTimeoutMs: 60_000,
    });
    stores.push(store);
    await store.ready();
    const log = store.db.collection('eventloom_log');
    const counters = store.db.collection<{ _id: string; value: number }>('eventloom_counters');
    await store.appendToStream('fast-1', [{ type: 'First', data: {} }]);
    // A slow writer has allocated position 2 and not yet committed.
    const slow = await counters.findOneAndUpdate(
      { _id: 'position' },
      { $inc: { value: 1 } },
      { returnDocument: 'after' },
    );
    const slowPosition = slow!.value;
    // A fast writer commits position 3 meanwhile.
    const fast = await store.appendToStream('fast-2', [{ type: 'Fast', data: {} }]);
    expect(fast.lastPosition).toBe(slowPosition + 1);

    const seen: RecordedEvent[] = [];
    const sub = store.subscribe({ name: 'ordered', handler: (e) => void seen.push(e) });
    await sub.waitFor(1);
    const readsAtHole = logReads;
    await vi.waitFor(() => expect(logReads).toBeGreaterThanOrEqual(readsAtHole + 5));
    expect(seen.map((e) => e.position)).toEqual([1]); // waits at the hole, does not skip ahead
    expect(await store.readAll()).toHaveLength(1);

    // The slow writer commits late, with the lower position.
    await log.insertOne({
      _id: slowPosition,
      lastPosition: slowPosition,
      streamId: 'slow-1',
      firstVersion: 1,
      lastVersion: 1,
      versions: [1],
      eventIds: ['slow-event'],
      events: [{ id: 'slow-event', type: 'Slow', data: {}, metadata: {} }],
      recordedAt: new Date(),
    } as never);
    await sub.waitFor(fast.lastPosition);
    await sub.stop();
    expect(seen.map((e) => e.type)).toEqual(['First', 'Slow', 'Fast']);
  });

  it('closes a hole left by a writer that died, and then refuses that writer a late commit', async () => {
    const store = fresh({ pollIntervalMs: 10, gapTimeoutMs: 200 });
    await store.ready();
    const counters = store.db.collection<{ _id: string; value: number }>('eventloom_counters');
    await store.appendToStream('a-1', [{ type: 'Before', data: {} }]);
    const dead = await counters.findOneAndUpdate(
      { _id: 'position' },
      { $inc: { value: 2 } },
      { returnDocument: 'after' },
    );
    const { lastPosition } = await store.appendToStream('a-2', [{ type: 'After', data: {} }]);
    const seen: string[] = [];
    const sub = store.subscribe({ name: 'gaps', handler: (e) => void seen.push(e.type) });
    await sub.waitFor(lastPosition, 10_000);
    await sub.stop();
    expect(seen).toEqual(['Before', 'After']);
    const late = store.db
      .collection('eventloom_log')
      .insertOne({ _id: dead!.value - 1, lastPosition: dead!.value, streamId: 'zombie' } as never);
    await expect(late).rejects.toMatchObject({ code: 11000 });
  });

  it('fails fast naming the host when the server cannot be reached', async () => {
    const store = createMongoEventStore({
      url: 'mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=500',
      dbName: 'unreachable',
      onNotice: () => undefined,
    });
    const started = Date.now();
    const attempt = store.appendToStream('x-1', [{ type: 'A', data: {} }]);
    await expect(attempt).rejects.toSatisfy(isStoreUnavailableError);
    await expect(attempt).rejects.toThrow(/127\.0\.0\.1:1.*MONGODB_URL/);
    expect(Date.now() - started).toBeLessThan(3000);
    await store.close();
  });

  it('rejects a malformed URL or database name at construction', () => {
    expect(() => createMongoEventStore({ url: 'http://localhost', dbName: 'x' })).toThrow(
      /Invalid MongoDB URL.*mongodb:\/\//,
    );
    expect(() => createMongoEventStore({ url: 'http://localhost', dbName: 'x' })).toThrow(
      ConfigurationError,
    );
    expect(() => createMongoEventStore({ url: MONGODB_URL, dbName: 'bad.name' })).toThrow(
      /options.dbName/,
    );
    expect(() => createMongoEventStore({ dbName: 'x' } as never)).toThrow(ValidationError);
  });

  it('creates its indexes idempotently when several instances start at once', async () => {
    const name = uniqueName('el_idx');
    const instances = [fresh({}, name), fresh({}, name), fresh({}, name)];
    await Promise.all(instances.map((s) => s.ready()));
    const indexes = (await instances[0]!.db
      .collection('eventloom_log')
      .listIndexes()
      .toArray()) as { name: string }[];
    expect(indexes.map((i) => i.name).sort()).toEqual(
      ['_id_', 'event_ids', 'last_position', 'stream_last_version', 'stream_versions'].sort(),
    );
  });

  it('finishes a read-model commit that was interrupted after journaling, without re-running handlers', async () => {
    const store = fresh();
    await store.ready();
    const target = createMongoProjectionTarget({ db: store.db });
    await target.commit('users', 3, [
      { op: 'put', collection: 'users', id: 'u1', doc: { name: 'ada' } },
    ]);
    // Simulate a crash right after the journal write of the next commit.
    await store.db.collection<{ _id: string }>('eventloom_projections').updateOne(
      { _id: 'users' },
      {
        $set: {
          pending: {
            position: 7,
            writes: [
              { op: 'put', collection: 'users', id: 'u2', doc: { name: 'grace' } },
              { op: 'delete', collection: 'users', id: 'u1' },
            ],
          },
        },
      },
    );
    expect(await target.documents.get('users', 'u2')).toBeUndefined();
    expect(await target.loadCheckpoint('users')).toBe(7);
    expect(await target.documents.find('users')).toEqual([{ name: 'grace' }]);
    expect(await target.loadCheckpoint('users')).toBe(7);
  });

  it('reports a malformed commit document as StoreCorruptedError naming it, and reads everything before it', async () => {
    const store = fresh();
    await store.appendToStream('good-1', [{ type: 'Good', data: {} }]);
    // What an older version stored for a sparse events array: a null event.
    await store.db.collection('eventloom_log').insertOne({
      _id: 2,
      lastPosition: 3,
      streamId: 'bad-1',
      firstVersion: 1,
      lastVersion: 2,
      versions: [null, 2],
      eventIds: [null, 'bad-event'],
      events: [null, { id: 'bad-event', type: 'X', data: {}, metadata: {} }],
      recordedAt: new Date(),
    } as never);
    await store.db
      .collection('eventloom_counters')
      .updateOne({ _id: 'position' as never }, { $set: { value: 3 } });
    // A page hands out what is before the corrupt document; the read that starts at it fails.
    expect((await store.readAll()).map((e) => e.type)).toEqual(['Good']);
    const error = await store.readAll({ from: 2 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isStoreCorruptedError(error), `unexpected outcome: ${String(error)}`).toBe(true);
    expect(isRetryableError(error)).toBe(false);
    expect((error as Error).message).toMatch(/_id 2 is malformed: events\[0\]/);
    expect((error as { details: Record<string, unknown> }).details).toMatchObject({ position: 2 });
    expect(await store.readStream('good-1')).toHaveLength(1);

    // A subscriber handles what is before it, then stops loudly instead of retrying forever.
    const seen: string[] = [];
    const sub = store.subscribe({
      name: 'behind-corruption',
      handler: (e) => void seen.push(e.type),
    });
    await expect(sub.done).rejects.toSatisfy(isStoreCorruptedError);
    expect(seen).toEqual(['Good']);
    expect(sub.status()).toMatchObject({ state: 'failed', position: 1 });
  });

  it('refuses an append whose JSON fits but whose BSON commit exceeds 16 MiB, before allocating positions', async () => {
    const store = fresh();
    // About 3 MB of JSON, but BSON stores every array index as a key: over 16 MiB.
    const zeros = new Array<number>(1_600_000).fill(0);
    const error = await store.appendToStream('bson-1', [{ type: 'Big', data: { zeros } }]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isValidationError(error), `unexpected outcome: ${String(error)}`).toBe(true);
    expect((error as Error).message).toMatch(/MiB as one MongoDB commit/);
    const { lastPosition } = await store.appendToStream('bson-2', [{ type: 'After', data: {} }]);
    expect(lastPosition).toBe(1);
    expect((await store.readAll()).map((e) => e.type)).toEqual(['After']);
  }, 60_000);

  it('burns no positions for appends that fail their version check or race in one process', async () => {
    const store = fresh();
    await store.appendToStream('burn-1', [{ type: 'A', data: {} }]);
    for (const expectedVersion of ['no_stream', 0, 5] as const) {
      await expect(
        store.appendToStream('burn-1', [{ type: 'X', data: {} }], { expectedVersion }),
      ).rejects.toSatisfy(isConcurrencyError);
    }
    const results = await Promise.all(
      Array.from({ length: 40 }, () =>
        store.appendToStream('burn-1', [{ type: 'Hit', data: {} }], { expectedVersion: 'any' }),
      ),
    );
    expect(Math.max(...results.map((r) => r.lastPosition))).toBe(41);
    expect(await store.db.collection('eventloom_log').countDocuments({ gap: true })).toBe(0);
  });

  it('reports the server capabilities once instead of failing per call', async () => {
    const notices: string[] = [];
    const name = uniqueName('el_caps');
    dbs.push(name);
    const store = createMongoEventStore({ client, dbName: name, onNotice: (m) => notices.push(m) });
    stores.push(store);
    const caps = await store.capabilities();
    await store.capabilities();
    expect(typeof caps.changeStreams).toBe('boolean');
    if (!caps.transactions)
      expect(notices.filter((n) => n.includes('transactions'))).toHaveLength(1);
  });
});

projectionContract('mongodb store + mongodb read models', {
  inline: false,
  create: async () => {
    if (!available) throw new Error('unreachable: guarded by skipIf');
    const name = uniqueName('el_proj');
    const store = createMongoEventStore({
      url: MONGODB_URL,
      dbName: name,
      onNotice: () => undefined,
    });
    const target = createMongoProjectionTarget({ db: store.db, ready: () => store.ready() });
    const close = store.close.bind(store);
    return {
      store: Object.assign(store, {
        close: async () => {
          await store.db.dropDatabase();
          await close();
        },
      }),
      target,
    };
  },
  skip: !available,
});
