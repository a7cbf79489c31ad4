import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isDuplicateKey } from '../../src/mongodb/mongoErrors.js';
import { createMongoGlobalLog, type MongoGlobalLog } from '../../src/mongodb/mongoGlobalLog.js';
import {
  type CommitDoc,
  collectionsOf,
  ensureIndexes,
  type MongoCollections,
} from '../../src/mongodb/mongoSchema.js';
import { MONGODB_URL, serviceAvailable, uniqueName } from '../support/services.js';

const available = await serviceAvailable('mongodb');

let client: MongoClient;
let c: MongoCollections;
let prefix = 0;
const dbName = uniqueName('el_globallog');

beforeAll(async () => {
  if (!available) return;
  client = await MongoClient.connect(MONGODB_URL);
});
afterAll(async () => {
  if (!available) return;
  await client.db(dbName).dropDatabase();
  await client.close();
});
beforeEach(async () => {
  if (!available) return;
  // A fresh set of collections per test, in the file's own database.
  c = collectionsOf(client.db(dbName), `log${++prefix}`);
  await ensureIndexes(c);
});

/** What a writer commits at positions first..first+count-1 of stream `streamId`. */
function commit(first: number, count: number, streamId = `s-${first}`): CommitDoc {
  const versions = Array.from({ length: count }, (_, i) => i + 1);
  return {
    _id: first,
    lastPosition: first + count - 1,
    streamId,
    firstVersion: 1,
    lastVersion: count,
    versions,
    eventIds: versions.map((v) => `${streamId}-e${v}`),
    events: versions.map((v) => ({
      id: `${streamId}-e${v}`,
      type: 'T',
      data: { v },
      metadata: {},
    })),
    recordedAt: new Date(),
  };
}

function open(gapTimeoutMs = 60_000, notices: string[] = []): MongoGlobalLog {
  return createMongoGlobalLog(c, { gapTimeoutMs, notice: (m) => notices.push(m) });
}

const positions = (events: { position: number }[]) => events.map((e) => e.position);

describe.skipIf(!available)('MongoDB global log', () => {
  it('reserves consecutive positions, shared by every log on the collections', async () => {
    const a = open();
    const b = open();
    expect(await a.reserve(3)).toBe(3);
    expect(await b.reserve(2)).toBe(5);
    expect(await a.reserve(1)).toBe(6);
  });

  it('reads in global order, through multi-event commits and released positions', async () => {
    const log = open();
    await log.reserve(6);
    await c.log.insertOne(commit(1, 2));
    await log.release(3, 4);
    await c.log.insertOne(commit(5, 2));
    expect(positions(await log.read(0, undefined))).toEqual([1, 2, 5, 6]);
    expect(positions(await log.read(2, 2))).toEqual([2, 5]);
    expect(await log.head()).toBe(6);
  });

  it('stops at a hole: a later commit stays unread until the writer before it commits', async () => {
    const log = open();
    const slowLast = await log.reserve(2);
    const fastLast = await log.reserve(1);
    await c.log.insertOne(commit(fastLast, 1));
    expect(await log.read(0, undefined)).toEqual([]);
    expect(await log.head()).toBe(0);
    await c.log.insertOne(commit(slowLast - 1, 2));
    expect(positions(await log.read(0, undefined))).toEqual([1, 2, 3]);
    expect(await log.head()).toBe(3);
  });

  it('a hole that starts before `from` also holds back a read that starts inside it', async () => {
    const log = open();
    await log.reserve(3);
    await c.log.insertOne(commit(4, 1));
    await log.reserve(1);
    expect(await log.read(2, undefined)).toEqual([]);
    await log.release(1, 3);
    expect(positions(await log.read(2, undefined))).toEqual([4]);
  });

  it('closes a hole older than gapTimeoutMs; the late writer then collides on _id', async () => {
    const notices: string[] = [];
    const log = open(0, notices);
    const staleLast = await log.reserve(2);
    await log.reserve(1);
    await c.log.insertOne(commit(3, 1));
    // The first read sees the hole, the next one finds it stale and closes it.
    expect(await log.read(0, undefined)).toEqual([]);
    await expect.poll(async () => positions(await log.read(0, undefined))).toEqual([3]);
    expect(notices.join('\n')).toContain(
      'closed a stale hole in the global order at positions 1..2',
    );
    await expect(c.log.insertOne(commit(staleLast - 1, 2))).rejects.toSatisfy(isDuplicateKey);
    expect(await log.head()).toBe(3);
  });

  it('releasing positions a reader already closed is not an error', async () => {
    const log = open(0);
    const last = await log.reserve(1);
    await log.reserve(1);
    await c.log.insertOne(commit(2, 1));
    await expect.poll(async () => positions(await log.read(0, undefined))).toEqual([2]);
    await expect(log.release(last, last)).resolves.toBeUndefined();
  });

  it('reserves for appends that queue while a reservation is in flight in one round trip, each its own range', async () => {
    const monitored = await MongoClient.connect(MONGODB_URL, { monitorCommands: true });
    try {
      let counterCalls = 0;
      monitored.on('commandStarted', (e) => {
        if (e.commandName === 'findAndModify') counterCalls++;
      });
      const log = createMongoGlobalLog(collectionsOf(monitored.db(dbName), `log${prefix}`), {
        gapTimeoutMs: 60_000,
        notice: () => undefined,
      });
      const counts = [1, 3, 2, 1, 5, 1, 2, 1];
      const lasts = await Promise.all(counts.map((n) => log.reserve(n)));
      // The first goes at once; the seven that queued behind it share the next round trip.
      expect(counterCalls).toBe(2);
      const ranges = lasts.map((last, i) => [last - counts[i]! + 1, last]);
      expect(ranges).toEqual([
        [1, 1],
        [2, 4],
        [5, 6],
        [7, 7],
        [8, 12],
        [13, 13],
        [14, 15],
        [16, 16],
      ]);
      await expect(log.reserve(2)).resolves.toBe(18);
    } finally {
      await monitored.close();
    }
  });

  it('fails every reservation that shared a failed round trip, and the next one reserves afresh', async () => {
    const log = open();
    await c.counters.insertOne({ _id: 'position', value: 'not a number' as unknown as number });
    const failed = await Promise.allSettled([log.reserve(1), log.reserve(2), log.reserve(1)]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    await c.counters.updateOne({ _id: 'position' }, { $set: { value: 10 } });
    await expect(log.reserve(3)).resolves.toBe(13);
  });
});
