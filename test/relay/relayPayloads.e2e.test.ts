/**
 * What a webhook receives, what `dlq list` prints and what `dlq replay` sends again must be
 * the same bytes, for every BSON type: the real `eventloom relay` command (built package), the
 * MongoDB stand-in (or MONGODB_URL) and a real HTTP receiver on 127.0.0.1.
 */
import {
  Binary,
  BSON,
  Decimal128,
  Double,
  Int32,
  Long,
  MongoClient,
  ObjectId,
  Timestamp,
  UUID,
} from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MONGODB_URL, serviceAvailable, uniqueName } from '../support/services.js';
import { runRelayCli, spawnRelay, writeConfig, type RelayProcess } from './relayProcesses.js';
import { itemsSource, type Receiver, removeRelayState, startReceiver } from './relayTestKit.js';

const available = await serviceAvailable('mongodb');

/** 2^53 + 1: the first integer a JSON number (an IEEE double) cannot hold. */
const BIG = '9007199254740993';

function richDocument(n: number): { _id: ObjectId } & Record<string, unknown> {
  return {
    _id: new ObjectId(),
    n,
    big: Long.fromString(BIG),
    negativeBig: Long.fromString('-9007199254740995'),
    smallLong: Long.fromNumber(42),
    price: Decimal128.fromString('1234567890.123456789012345678901234'),
    ratio: new Double(2.5),
    count: new Int32(7),
    blob: new Binary(Buffer.from([0, 1, 2, 250, 255]), 0),
    uuid: new UUID('0f8fad5b-d9cb-469f-a165-70867728950e'),
    at: new Date('2026-01-02T03:04:05.678Z'),
    ancient: new Date('1969-07-20T20:17:40.000Z'),
    stamp: new Timestamp({ t: 1_700_000_000, i: 3 }),
    nested: [
      [Long.fromString(BIG), { inner: [new ObjectId(), Decimal128.fromString('-0.00')] }],
      { deeper: { list: [new Date(0), null, 'text', true] } },
    ],
  };
}

const canonical = (value: unknown): string => BSON.EJSON.stringify(value, { relaxed: false });

describe.skipIf(!available)('relay payloads: first delivery, dlq list and replay', () => {
  let client: MongoClient;
  let receiver: Receiver;
  const name = uniqueName('relay_payloads');
  const children: RelayProcess[] = [];

  beforeAll(async () => {
    client = new MongoClient(MONGODB_URL, { serverSelectionTimeoutMS: 5000 });
    await client.connect();
    receiver = await startReceiver();
  });
  afterAll(async () => {
    for (const c of children) if (c.child.exitCode === null) await c.kill9();
    await receiver?.close();
    await client.db(name).dropDatabase();
    await removeRelayState(client, [name]);
    await client?.close();
  });

  it('replayed and listed payloads are byte-identical to the first delivery, int64 beyond 2^53 included', async () => {
    const file = writeConfig({
      name,
      source: itemsSource(name),
      pipeline: [{ http: { url: receiver.url, timeoutMs: 5000, retry: { maxAttempts: 1 } } }],
      checkpoints: { intervalMs: 200 },
      server: false,
    });
    // Every first delivery is refused for good, so each change lands in the dead-letter store.
    receiver.respond = () => 422;
    const relay = spawnRelay(['--config', file], {}, { built: true });
    children.push(relay);
    const checkpoints = client.db('eventloom_relay').collection<{ _id: string }>('checkpoints');
    await expect
      .poll(() => checkpoints.findOne({ _id: `${name}/coll:${name}.items` }), { timeout: 20_000 })
      .not.toBeNull();

    const items = client.db(name).collection<{ _id: ObjectId } & Record<string, unknown>>('items');
    const docs = [richDocument(1), richDocument(2), richDocument(3)];
    for (const doc of docs) await items.insertOne(doc);
    await items.updateOne({ _id: docs[0]!._id }, { $set: { price: Decimal128.fromString('0.1') } });
    const { _id: _replacedId, ...replacement } = richDocument(20);
    await items.replaceOne({ _id: docs[1]!._id }, replacement);
    await items.deleteOne({ _id: docs[2]!._id });
    const changes = 6;

    const deadLetters = client.db('eventloom_relay').collection('dead_letters');
    await expect
      .poll(() => deadLetters.countDocuments({ relay: name }), { timeout: 20_000 })
      .toBe(changes);
    expect(await relay.terminate(), relay.output()).toBe(0);

    const first = new Map<string, string>();
    for (const attempt of receiver.attempts)
      if (!first.has(attempt.key)) first.set(attempt.key, attempt.raw);
    expect(first.size).toBe(changes);

    const listed = await runRelayCli(['dlq', 'list', '--config', file], {}, { built: true });
    expect(listed.code, listed.stderr).toBe(0);
    const entries = listed.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { key: string; message: unknown });
    expect(entries).toHaveLength(changes);
    for (const entry of entries) expect(JSON.stringify(entry.message)).toBe(first.get(entry.key));

    receiver.respond = () => 204;
    const replayed = await runRelayCli(['dlq', 'replay', '--config', file], {}, { built: true });
    expect(replayed.code, replayed.stderr).toBe(0);
    expect(receiver.received).toHaveLength(changes);
    for (const delivery of receiver.received) expect(delivery.raw).toBe(first.get(delivery.key));

    // int64 travels as canonical Extended JSON: exact for any consumer, whatever its JSON parser.
    const inserted = receiver.received.find(
      (r) => r.body.operationType === 'insert' && (r.body.fullDocument as { n?: number }).n === 1,
    );
    const body = inserted!.body as { fullDocument: Record<string, unknown> };
    expect(body.fullDocument.big).toEqual({ $numberLong: BIG });
    expect(body.fullDocument.smallLong).toEqual({ $numberLong: '42' });
    expect(
      canonical(BSON.EJSON.parse(JSON.stringify(body.fullDocument), { relaxed: false }) as unknown),
    ).toBe(canonical(docs[0]));
  }, 90_000);
});
