/**
 * The relay against real services: MongoDB change streams (stand-in or MONGODB_URL) into
 * Kafka and a local webhook, the Eventloom store as a source, snapshots, collections
 * created later, and per-collection pipelines.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Admin, Consumer, MessagesStreamModes, stringDeserializers } from '@platformatic/kafka';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteEventStore } from '../../src/sqlite/sqliteEventStore.js';
import { parseRelayConfig } from '../../src/relay/parseRelayConfig.js';
import { type RelayHandle, startRelay } from '../../src/relay/relayRunner.js';
import { KAFKA_BROKERS, MONGODB_URL, serviceAvailable, uniqueName } from '../support/services.js';
import { type Receiver, startReceiver } from './relayTestKit.js';

const mongoUp = await serviceAvailable('mongodb');
const kafkaUp = mongoUp && (await serviceAvailable('kafka'));
const silent = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child() {
    return silent;
  },
};

describe.skipIf(!mongoUp)('relay sources and sinks (real services)', () => {
  let client: MongoClient;
  let receiver: Receiver;
  const dbs: string[] = [];
  const handles: RelayHandle[] = [];

  beforeAll(async () => {
    client = new MongoClient(MONGODB_URL, { serverSelectionTimeoutMS: 5000 });
    await client.connect();
    receiver = await startReceiver();
  });
  afterAll(async () => {
    for (const h of handles) await h.stop();
    await receiver?.close();
    for (const name of dbs) {
      await client.db(name).dropDatabase();
      const state = client.db('eventloom_relay');
      await state.collection('checkpoints').deleteMany({ relay: name });
      await state.collection('dead_letters').deleteMany({ relay: name });
      await state.collection<{ _id: string }>('leases').deleteOne({ _id: name });
    }
    await client?.close();
  });

  const fresh = (): string => {
    const name = uniqueName('relay_src');
    dbs.push(name);
    return name;
  };

  const waitForCheckpoints = async (relay: string, count: number): Promise<void> => {
    await expect
      .poll(
        () => client.db('eventloom_relay').collection('checkpoints').countDocuments({ relay }),
        { timeout: 15_000, message: `relay ${relay} recorded its start points` },
      )
      .toBeGreaterThanOrEqual(count);
  };

  it.skipIf(!kafkaUp)(
    'relays changes to Kafka: templated topic, key from a field, idempotency-key header',
    async () => {
      const name = fresh();
      const topic = `relaytest.${name}.orders`;
      const handle = await startRelay(
        parseRelayConfig({
          name,
          source: {
            mongodb: { url: MONGODB_URL, databases: { [name]: { collections: ['orders'] } } },
          },
          pipeline: [
            { filter: { operationType: ['insert', 'update'] } },
            { map: { omit: ['fullDocument.secret'] } },
            {
              kafka: {
                brokers: KAFKA_BROKERS,
                topic: 'relaytest.{{ns.db}}.{{ns.coll}}',
                key: 'fullDocument.customer',
              },
            },
          ],
          server: false,
          lease: { enabled: false },
        }),
        { log: silent },
      );
      handles.push(handle);
      await waitForCheckpoints(name, 1);
      const orders = client
        .db(name)
        .collection<{ _id: number; customer: string; secret: string }>('orders');
      for (let i = 1; i <= 20; i++)
        await orders.insertOne({ _id: i, customer: `c${i % 4}`, secret: 'x' });
      await expect
        .poll(() => handle.metrics.processed, { timeout: 20_000 })
        .toBeGreaterThanOrEqual(20);
      const consumer = new Consumer({
        groupId: `relaytest-${name}`,
        clientId: 'relaytest',
        bootstrapBrokers: KAFKA_BROKERS.split(','),
        deserializers: stringDeserializers,
      });
      const stream = await consumer.consume({
        topics: [topic],
        mode: MessagesStreamModes.EARLIEST,
      });
      const got: { key: string; value: Record<string, unknown>; headers: Map<string, string> }[] =
        [];
      for await (const m of stream) {
        got.push({
          key: m.key,
          value: JSON.parse(m.value) as Record<string, unknown>,
          headers: m.headers,
        });
        // At least once: a redelivery is allowed, so stop on 20 distinct changes.
        if (new Set(got.map((g) => (g.value.documentKey as { _id: number })._id)).size === 20)
          break;
      }
      await stream.close();
      await consumer.close();
      const admin = new Admin({
        clientId: 'relaytest-admin',
        bootstrapBrokers: KAFKA_BROKERS.split(','),
      });
      await admin.deleteTopics({ topics: [topic] });
      await admin.close();
      expect(new Set(got.map((g) => (g.value.documentKey as { _id: number })._id)).size).toBe(20);
      const first = got.find((g) => (g.value.documentKey as { _id: number })._id === 5)!;
      expect(first.key).toBe('c1');
      expect(first.headers.get('idempotency-key')).toBe(first.value.id);
      expect(first.headers.get('operation-type')).toBe('insert');
      expect((first.value.fullDocument as Record<string, unknown>).secret).toBeUndefined();
    },
    60_000,
  );

  it('snapshots existing documents, watches collections created later, the most specific pipeline wins', async () => {
    const name = fresh();
    const db = client.db(name);
    await db.collection<{ _id: string }>('existing').insertMany([{ _id: 'e1' }, { _id: 'e2' }]);
    receiver.received.length = 0;
    const handle = await startRelay(
      parseRelayConfig({
        name,
        source: {
          mongodb: {
            url: MONGODB_URL,
            databases: {
              [name]: {
                exclude: ['ignored'],
                collections: {
                  special: {
                    pipeline: [
                      { map: { set: { route: 'special' } } },
                      { http: { url: receiver.url } },
                    ],
                  },
                  '/.*/': null,
                },
              },
            },
            snapshot: 'initial',
            discoveryIntervalMs: 300,
          },
        },
        pipeline: [{ map: { set: { route: 'default' } } }, { http: { url: receiver.url } }],
        server: false,
        lease: { enabled: false },
      }),
      { log: silent },
    );
    handles.push(handle);
    await waitForCheckpoints(name, 2);
    await receiver.waitFor(() => receiver.received.length >= 2, 10_000, 'the snapshot');
    const snap = receiver.received.filter((r) => r.body.operationType === 'snapshot');
    expect(snap.map((r) => (r.body.documentKey as { _id: string })._id).sort()).toEqual([
      'e1',
      'e2',
    ]);
    // Created after the relay started: picked up by discovery (stand-in) or the db stream.
    // The excluded collection is written first, so a relay that wrongly watched it would
    // have read its change no later than the ones awaited below.
    await db.collection<{ _id: string }>('ignored').insertOne({ _id: 'i1' });
    await db.collection<{ _id: string }>('later').insertOne({ _id: 'l1' });
    await db.collection<{ _id: string }>('special').insertOne({ _id: 's1' });
    await db.collection<{ _id: string }>('existing').updateOne({ _id: 'e1' }, { $set: { n: 1 } });
    const seen = (id: string, op: string): boolean =>
      receiver.received.some(
        (r) => (r.body.documentKey as { _id: string })._id === id && r.body.operationType === op,
      );
    await receiver.waitFor(
      () => seen('l1', 'insert') && seen('s1', 'insert') && seen('e1', 'update'),
      10_000,
      'changes after the snapshot',
    );
    await handle.stop(); // finishes every delivery in flight
    const byId = new Map(
      receiver.received.map((r) => [
        (r.body.documentKey as { _id: string })._id + String(r.body.operationType),
        r.body,
      ]),
    );
    expect(byId.get('l1insert')?.route).toBe('default');
    expect(byId.get('s1insert')?.route).toBe('special');
    expect((byId.get('e1update')?.fullDocument as { n?: number }).n).toBe(1);
    expect(byId.has('i1insert')).toBe(false);
    expect(receiver.received.every((r) => r.headers['webhook-id'] === r.key)).toBe(true);
  }, 60_000);

  it('relays the Eventloom store itself (SQLite) and resumes after a restart without a gap', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'relay-eventloom-'));
    const path = join(dir, 'events.db');
    const store = createSqliteEventStore({ path });
    for (let i = 1; i <= 10; i++)
      await store.appendToStream(`order-${i}`, [{ type: 'OrderPlaced', data: { n: i } }]);
    receiver.received.length = 0;
    const config = parseRelayConfig({
      name: 'eventloom-source-test',
      source: { eventloom: { store: path } },
      pipeline: [{ filter: { 'event.type': 'OrderPlaced' } }, { http: { url: receiver.url } }],
      checkpoints: { intervalMs: 100 },
      server: false,
    });
    let handle = await startRelay(config, { log: silent });
    await receiver.waitFor(() => receiver.received.length >= 10, 10_000, 'ten events');
    await handle.stop();
    for (let i = 11; i <= 15; i++)
      await store.appendToStream(`order-${i}`, [{ type: 'OrderPlaced', data: { n: i } }]);
    handle = await startRelay(config, { log: silent });
    // The source reads in log order, so once the last event arrived anything sent twice
    // (a resume from too early a checkpoint) has arrived before it.
    await receiver.waitFor(
      () =>
        receiver.received.some((r) => (r.body.event as { data?: { n?: number } }).data?.n === 15),
      10_000,
      'the last event',
    );
    await handle.stop();
    await store.close();
    expect(receiver.received).toHaveLength(15);
    const body = receiver.received[0]!.body as {
      ns: { db: string; coll: string };
      event: { type: string };
    };
    expect(body.ns).toEqual({ db: 'eventloom', coll: 'order' });
    expect(body.event.type).toBe('OrderPlaced');
  }, 60_000);
});

describe.skipIf(!mongoUp)(
  'change streams: where the stand-in differs from MongoDB (documented)',
  () => {
    let client: MongoClient;
    let standIn = false;
    const name = uniqueName('relay_diff');

    beforeAll(async () => {
      client = new MongoClient(MONGODB_URL, { serverSelectionTimeoutMS: 5000 });
      await client.connect();
      const hello = await client.db('admin').command({ hello: 1 });
      standIn = typeof hello.setName !== 'string' && hello.msg !== 'isdbgrid';
    });
    afterAll(async () => {
      await client.db(name).dropDatabase();
      await client.close();
    });

    it('database streams see no inserts and deployment streams fail on the stand-in (so the relay watches per collection)', async () => {
      const db = client.db(name);
      const dbStream = db.watch([], { maxAwaitTimeMS: 200 });
      await dbStream.tryNext();
      await db.collection<{ _id: number }>('c').insertOne({ _id: 1 });
      const seen = await dbStream.tryNext();
      await dbStream.close();
      const deployment = client.watch([], { maxAwaitTimeMS: 200 });
      const failure = await deployment.tryNext().then(
        () => undefined,
        (e: { code?: number }) => e,
      );
      await deployment.close();
      if (standIn) {
        expect(seen).toBeNull();
        expect(failure?.code).toBe(59);
      } else {
        expect(seen?.operationType).toBe('insert');
        expect(failure).toBeUndefined();
      }
    });

    it('an idle stream gets no post-batch resume token from the stand-in (so no idle heartbeat there)', async () => {
      const stream = client.db(name).collection('idle').watch([], { maxAwaitTimeMS: 200 });
      expect(await stream.tryNext()).toBeNull();
      const token = stream.resumeToken;
      await stream.close();
      if (standIn) expect(token).toBeNull();
      else expect(token).not.toBeNull();
    });
  },
);
