import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { isKafkaError, type KafkaError } from '../../src/kafka/kafkaErrors.js';
import { KAFKA_EVENT_HEADERS } from '../../src/kafka/kafkaMessage.js';
import { startKafkaPublisher } from '../../src/kafka/kafkaPublisher.js';
import type {
  KafkaPublisherNotice,
  KafkaPublisherOptions,
} from '../../src/kafka/kafkaPublisherTypes.js';
import type { EventStore } from '../../src/core/types.js';
import { createSqliteEventStore } from '../../src/sqlite/sqliteEventStore.js';
import { serviceAvailable, uniqueName } from '../support/services.js';
import { BROKERS, KafkaTestKit, type ReadMessage, runFixture } from './kafkaTestKit.js';

const available = await serviceAvailable('kafka');

/** Stream ids whose category is unique to this run, so `eventloom.<category>` topics are too. */
const category = (prefix: string): string => uniqueName(prefix).replace(/_/g, '');

async function appendMany(
  store: EventStore,
  streams: string[],
  perStream: number,
  payload: (i: number) => unknown = (i) => ({ n: i }),
): Promise<void> {
  for (let v = 0; v < perStream; v++) {
    for (const s of streams) {
      await store.appendToStream(s, [{ type: 'Counted', data: payload(v) }]);
    }
  }
}

/** Each stream's versions in the order of their first appearance in Kafka. */
function firstSeenVersions(messages: ReadMessage[]): Map<string, number[]> {
  const seen = new Set<string>();
  const out = new Map<string, number[]>();
  for (const m of messages) {
    const id = m.headers[KAFKA_EVENT_HEADERS.eventId] as string;
    if (seen.has(id)) continue;
    seen.add(id);
    const list = out.get(m.key as string) ?? [];
    list.push(Number(m.headers[KAFKA_EVENT_HEADERS.streamVersion]));
    out.set(m.key as string, list);
  }
  return out;
}

describe.skipIf(!available)('Kafka publisher', () => {
  const kit = new KafkaTestKit();
  const dir = mkdtempSync(join(tmpdir(), 'eventloom-kafka-pub-'));
  const stores: EventStore[] = [];
  const fresh = (path = ':memory:'): EventStore => {
    const store = createSqliteEventStore({ path });
    stores.push(store);
    return store;
  };
  const start = (options: KafkaPublisherOptions) => {
    const publisher = startKafkaPublisher({
      retry: { initialDelayMs: 50, maxDelayMs: 500 },
      ...options,
    });
    stops.push(() => publisher.stop());
    return publisher;
  };
  const stops: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    await kit.admin.listTopics();
  });
  afterAll(async () => {
    await Promise.all(stops.map((s) => s()));
    await Promise.all(stores.map((s) => s.close().catch(() => undefined)));
    await kit.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes every event to eventloom.<category>, keyed by stream id, with the contract headers', async () => {
    const store = fresh();
    const cat = category('pub');
    kit.track(`eventloom.${cat}`);
    await store.appendToStream(`${cat}-1`, [
      {
        type: 'Registered',
        data: { name: 'ada' },
        metadata: { correlationId: 'corr-1', causationId: 'cause-1' },
      },
      { type: 'Renamed', data: { name: 'Ada' } },
    ]);
    await store.appendToStream(`${cat}-2`, [{ type: 'Registered', data: { name: 'bob' } }]);
    const publisher = start({
      store,
      brokers: BROKERS,
      createTopics: { partitions: 3, replicationFactor: 1 },
    });
    await publisher.waitFor(await store.headPosition());

    const messages = await kit.readTopic(`eventloom.${cat}`);
    const recorded = await store.readAll();
    expect(messages).toHaveLength(3);
    for (const e of recorded) {
      const m = messages.find((x) => x.headers['event-id'] === e.id);
      expect(m, `event ${e.id} on Kafka`).toBeDefined();
      expect(m!.key).toBe(e.streamId);
      expect(m!.headers).toMatchObject({
        'event-id': e.id,
        'event-type': e.type,
        'stream-version': String(e.version),
        position: String(e.position),
      });
      expect(JSON.parse(m!.value!)).toEqual({
        id: e.id,
        streamId: e.streamId,
        type: e.type,
        data: e.data,
        metadata: e.metadata,
        version: e.version,
        position: e.position,
        recordedAt: e.recordedAt.toISOString(),
      });
    }
    const first = messages.find(
      (m) => m.headers['event-type'] === 'Registered' && m.key === `${cat}-1`,
    );
    expect(first!.headers['correlation-id']).toBe('corr-1');
    expect(first!.headers['causation-id']).toBe('cause-1');
    // One stream, one partition: its events stay in order.
    const stream1 = messages.filter((m) => m.key === `${cat}-1`);
    expect(new Set(stream1.map((m) => m.partition)).size).toBe(1);
    expect(stream1.map((m) => m.headers['stream-version'])).toEqual(['1', '2']);
    expect(publisher.status()).toMatchObject({ state: 'live', position: 3, lag: 0, published: 3 });
    await expect.poll(() => store.checkpoints.load('kafka-publisher'), { timeout: 5000 }).toBe(3);
  });

  it('resumes after a stop from its checkpoint, skipping nothing and repeating nothing', async () => {
    const store = fresh();
    const topic = await kit.createTopic('resume');
    const streams = ['acct-1', 'acct-2', 'acct-3', 'acct-4'];
    await appendMany(store, streams, 50);
    const options = { store, brokers: BROKERS, topicFor: () => topic, batchSize: 20 };
    const first = start(options);
    await first.waitFor(100);
    await first.stop();
    const stoppedAt = first.status().position;
    expect(await store.checkpoints.load('kafka-publisher')).toBe(stoppedAt);
    await appendMany(store, streams, 25);

    const second = start(options);
    await second.waitFor(await store.headPosition());
    const messages = await kit.readTopic(topic);
    const ids = messages.map((m) => m.headers['event-id']);
    expect(new Set(ids).size).toBe(300);
    expect(ids).toHaveLength(300); // a graceful stop stores the exact acknowledged position
    for (const [, versions] of firstSeenVersions(messages)) {
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
    }
  });

  it('after a crash mid-way never has a checkpoint past an unacknowledged event, and the restart publishes the rest', async () => {
    const path = join(dir, 'crash.db');
    const store = fresh(path);
    const topic = await kit.createTopic('crash');
    const streams = Array.from({ length: 20 }, (_, i) => `order-${i}`);
    await appendMany(store, streams, 200);
    const head = await store.headPosition();

    const child = runFixture('publisherProcess.ts', [path, topic, '25']);
    try {
      await child.waitForLine((l) => Number(l.split(' ')[1]) >= 1000);
    } finally {
      await child.kill(); // SIGKILL: no stop(), no final checkpoint
    }
    const checkpoint = (await store.checkpoints.load('kafka-publisher')) ?? 0;
    expect(checkpoint).toBeLessThan(head); // it really died mid-way
    const onKafka = new Set((await kit.readTopic(topic)).map((m) => Number(m.headers.position)));
    for (let p = 1; p <= checkpoint; p++) {
      if (!onKafka.has(p))
        throw new Error(`checkpoint ${checkpoint} passed position ${p}, which is not on Kafka`);
    }

    const restarted = start({ store, brokers: BROKERS, topicFor: () => topic, batchSize: 500 });
    await restarted.waitFor(head);
    const messages = await kit.readTopic(topic);
    const positions = new Set(messages.map((m) => Number(m.headers.position)));
    for (let p = 1; p <= head; p++) expect(positions.has(p)).toBe(true);
    for (const [, versions] of firstSeenVersions(messages)) {
      expect(versions).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    }
  });

  it('reports an unreachable broker with the broker list, retries with backoff and keeps the checkpoint', async () => {
    const store = fresh();
    await store.appendToStream('user-1', [{ type: 'Registered', data: {} }]);
    const notices: KafkaPublisherNotice[] = [];
    const publisher = startKafkaPublisher({
      store,
      brokers: '127.0.0.1:1',
      retry: { initialDelayMs: 20, maxDelayMs: 100 },
      onEvent: (n) => notices.push(n),
    });
    await vi.waitFor(
      () => expect(notices.filter((n) => n.kind === 'retry').length).toBeGreaterThanOrEqual(2),
      15_000,
    );
    const retry = notices.find((n) => n.kind === 'retry') as { error: KafkaError; delayMs: number };
    expect(isKafkaError(retry.error)).toBe(true);
    expect(retry.error.reason).toBe('BROKER_UNREACHABLE');
    expect(retry.error.message).toContain('127.0.0.1:1');
    expect(retry.error.message).toMatch(/Cannot reach any Kafka broker/);
    const status = publisher.status();
    expect(status.state).toBe('retrying');
    expect(status.lastError).toContain('127.0.0.1:1');
    expect(status.lag).toBe(1);
    await publisher.stop();
    expect(await store.checkpoints.load('kafka-publisher')).toBeUndefined();
    expect(publisher.status().state).toBe('stopped');
  });

  it('names a missing topic and the fix when it may not create it, then publishes once the topic exists', async () => {
    const store = fresh();
    const topic = kit.topicName('missing');
    await store.appendToStream('user-1', [{ type: 'Registered', data: {} }]);
    const notices: KafkaPublisherNotice[] = [];
    const publisher = start({
      store,
      brokers: BROKERS,
      topicFor: () => topic,
      createTopics: false,
      onEvent: (n) => notices.push(n),
    });
    await vi.waitFor(() => expect(notices.map((n) => n.kind)).toContain('retry'), 10_000);
    const retry = notices.find((n) => n.kind === 'retry') as { error: KafkaError };
    expect(retry.error.reason).toBe('TOPIC_MISSING');
    expect(retry.error.topic).toBe(topic);
    expect(retry.error.message).toContain(`'${topic}' does not exist`);
    expect(retry.error.message).toContain('createTopics');
    expect(await store.checkpoints.load('kafka-publisher')).toBeUndefined();

    await kit.admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 });
    await publisher.waitFor(1, 20_000);
    expect(await kit.readTopic(topic)).toHaveLength(1);
  });

  it('parks an event larger than the topic accepts, with the reason, and publishes the rest', async () => {
    const store = fresh();
    const topic = await kit.createTopic('oversized', 1, { 'max.message.bytes': '20000' });
    await store.appendToStream('doc-1', [{ type: 'Small', data: { n: 1 } }]);
    await store.appendToStream('doc-2', [{ type: 'Huge', data: { blob: 'x'.repeat(30_000) } }]);
    await store.appendToStream('doc-1', [{ type: 'Small', data: { n: 2 } }]);
    const notices: KafkaPublisherNotice[] = [];
    const publisher = start({
      store,
      brokers: BROKERS,
      name: 'oversized',
      topicFor: () => topic,
      onEvent: (n) => notices.push(n),
    });
    await publisher.waitFor(3);
    const parked = await store.checkpoints.listParked('oversized');
    expect(parked).toHaveLength(1);
    expect(parked[0]!.event.type).toBe('Huge');
    expect(parked[0]!.reason).toMatch(/accepts at most 20000 \(max\.message\.bytes\)/);
    expect(notices.some((n) => n.kind === 'parked')).toBe(true);
    const types = (await kit.readTopic(topic)).map((m) => m.headers['event-type']);
    expect(types).toEqual(['Small', 'Small']);
    expect(publisher.status()).toMatchObject({ parked: 1, published: 2, position: 3 });
  });

  it('parks an event the broker itself refuses (compressed batch too large) without stalling the others', async () => {
    const store = fresh();
    const topic = await kit.createTopic('refused', 1, { 'max.message.bytes': '20000' });
    // Random text does not compress: the broker, not the size pre-check, refuses it.
    const random = Array.from({ length: 40_000 }, () =>
      Math.random().toString(36).slice(2, 3),
    ).join('');
    for (let i = 0; i < 10; i++)
      await store.appendToStream(`doc-${i}`, [{ type: 'Small', data: { i } }]);
    await store.appendToStream('doc-x', [{ type: 'Huge', data: { random } }]);
    for (let i = 10; i < 20; i++)
      await store.appendToStream(`doc-${i}`, [{ type: 'Small', data: { i } }]);
    const publisher = start({
      store,
      brokers: BROKERS,
      name: 'refused',
      topicFor: () => topic,
      compression: 'lz4',
    });
    await publisher.waitFor(21);
    const parked = await store.checkpoints.listParked('refused');
    expect(parked.map((p) => p.event.type)).toEqual(['Huge']);
    expect(parked[0]!.reason).toMatch(/max\.message\.bytes/);
    const onKafka = await kit.readTopic(topic);
    expect(new Set(onKafka.map((m) => m.headers['event-id'])).size).toBe(20);
    expect(onKafka.every((m) => m.headers['event-type'] === 'Small')).toBe(true);
  });

  it('parks an event whose topicFor gives an invalid topic name', async () => {
    const store = fresh();
    const topic = await kit.createTopic('valid', 1);
    await store.appendToStream('a-1', [{ type: 'Ok', data: {} }]);
    await store.appendToStream('b-1', [{ type: 'Bad', data: {} }]);
    const publisher = start({
      store,
      brokers: BROKERS,
      name: 'badtopic',
      topicFor: (e) => (e.type === 'Bad' ? 'no spaces allowed' : topic),
    });
    await publisher.waitFor(2);
    const [parked] = await store.checkpoints.listParked('badtopic');
    expect(parked!.reason).toContain('"no spaces allowed"');
    expect(await kit.readTopic(topic)).toHaveLength(1);
  });

  it('starting at the end publishes only new events, and remembers that start across a restart', async () => {
    const store = fresh();
    const topic = await kit.createTopic('fromend', 1);
    await store.appendToStream('old-1', [{ type: 'Before', data: {} }]);
    const options = {
      store,
      brokers: BROKERS,
      name: 'from-end',
      topicFor: () => topic,
      from: 'end' as const,
    };
    const first = start(options);
    await vi.waitFor(() => expect(first.status().state).toBe('live'), 10_000);
    await first.stop(); // stopped before any new event: the start point must still hold
    await store.appendToStream('new-1', [{ type: 'After', data: {} }]);
    const second = start(options);
    await second.waitFor(2);
    expect((await kit.readTopic(topic)).map((m) => m.headers['event-type'])).toEqual(['After']);
  });

  it('stops with a configuration error naming the option when the broker refuses to create a topic with it', async () => {
    const store = fresh();
    await store.appendToStream('order-1', [{ type: 'Placed', data: {} }]);
    const topic = kit.topicName('replicas');
    const publisher = start({
      store,
      brokers: BROKERS,
      topicFor: () => topic,
      // A single-broker cluster cannot hold three replicas.
      createTopics: { partitions: 1, replicationFactor: 3 },
    });
    await expect(publisher.done).rejects.toMatchObject({
      code: 'CONFIGURATION',
      reason: 'OPTION_REJECTED',
      retryable: false,
    });
    await expect(publisher.done).rejects.toThrow(
      /INVALID_REPLICATION_FACTOR.*createTopics\.replicationFactor/,
    );
    expect(publisher.status().state).toBe('failed');
  });

  it('rejects bad options with the field and the expected form', () => {
    const store = fresh();
    expect(() => startKafkaPublisher({ store, brokers: 'localhost' })).toThrow(
      /options.brokers: 'localhost' is not|options.brokers: "localhost" is not/,
    );
    expect(() => startKafkaPublisher({ store, brokers: [] })).toThrow(/at least one broker/);
    expect(() => startKafkaPublisher({ store, brokers: BROKERS, batchSize: 0 })).toThrow(
      /options.batchSize/,
    );
  });
});
