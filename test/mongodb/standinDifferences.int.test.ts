/**
 * Where the MongoDB wire-protocol stand-in (mongo-java-server) behaves unlike MongoDB, and
 * how Eventloom's MongoDB code is written so that it does not matter. Each test asserts the
 * stand-in's behaviour when running against it and MongoDB's behaviour against a real
 * server (MONGODB_URL), so the day the stand-in changes, this file says so.
 */
import { MongoClient, type Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMongoEventStore } from '../../src/mongodb/mongoEventStore.js';
import { MONGODB_URL, serviceAvailable, uniqueName } from '../support/services.js';

const available = await serviceAvailable('mongodb');

async function settle<T>(
  p: Promise<T>,
): Promise<
  { ok: true; value: T } | { ok: false; error: Error & { code?: unknown; keyPattern?: unknown } }
> {
  try {
    return { ok: true, value: await p };
  } catch (error) {
    return { ok: false, error: error as Error };
  }
}

describe.skipIf(!available)('MongoDB stand-in differences (documented)', () => {
  let client: MongoClient;
  let db: Db;
  let standIn = false;

  beforeAll(async () => {
    client = new MongoClient(MONGODB_URL, { serverSelectionTimeoutMS: 5000 });
    await client.connect();
    db = client.db(uniqueName('el_diff'));
    const info = (await db.admin().command({ buildInfo: 1 })) as { gitVersion?: string };
    standIn = info.gitVersion === undefined;
  });
  afterAll(async () => {
    await db.dropDatabase();
    await client.close();
  });

  it('has no sessions or multi-document transactions on the stand-in, so the store never needs them', async () => {
    const session = await settle(
      (async () => {
        const s = client.startSession();
        try {
          await db.collection('t').insertOne({ a: 1 }, { session: s });
        } finally {
          await s.endSession();
        }
      })(),
    );
    if (standIn) {
      expect(session.ok).toBe(false);
      expect(!session.ok && session.error.message).toMatch(/does not support sessions/);
    }
    const store = createMongoEventStore({
      client,
      dbName: db.databaseName,
      onNotice: () => undefined,
    });
    expect((await store.capabilities()).transactions).toBe(!standIn && session.ok);
    // Appends work either way: one append is one single-document write.
    await store.appendToStream('order-1', [
      { type: 'A', data: {} },
      { type: 'B', data: {} },
    ]);
    expect(await store.readStream('order-1')).toHaveLength(2);
  });

  it('does not enforce unique indexes on paths inside arrays of subdocuments on the stand-in, so event ids live in a top-level array', async () => {
    const c = db.collection('nested');
    await c.createIndex({ 'events.id': 1 }, { unique: true, sparse: true });
    await c.insertOne({ events: [{ id: 'x' }] });
    const second = await settle(c.insertOne({ events: [{ id: 'x' }] }));
    expect(second.ok).toBe(standIn);
    const top = db.collection('top');
    await top.createIndex({ ids: 1 }, { unique: true, sparse: true });
    await top.insertOne({ ids: ['x', 'y'] });
    const dup = await settle(top.insertOne({ ids: ['z', 'y'] }));
    expect(dup.ok).toBe(false); // the layout Eventloom uses is enforced by both
  });

  it('names the index of a duplicate key only in the message on the stand-in, so the store reads both', async () => {
    const c = db.collection('dups');
    await c.createIndex({ k: 1 }, { unique: true, name: 'k_unique' });
    await c.insertOne({ k: 1 });
    const r = await settle(c.insertOne({ k: 1 }));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe(11000);
      expect(r.error.message).toMatch(/index: k_unique dup key/);
      if (standIn) expect(r.error.keyPattern).toBeUndefined();
      else expect(r.error.keyPattern).toEqual({ k: 1 });
    }
  });

  it('refuses deployment-wide change streams on the stand-in; Eventloom watches collections', async () => {
    const r = await settle(
      (async () => {
        const stream = client.watch();
        try {
          await stream.tryNext();
        } finally {
          await stream.close();
        }
      })(),
    );
    if (standIn) {
      expect(r.ok).toBe(false);
      expect(!r.ok && r.error.message).toMatch(/no such command: 'aggregate'/);
    }
  });
});
