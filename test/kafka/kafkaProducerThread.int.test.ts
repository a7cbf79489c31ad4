import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventStore } from '../../src/core/types.js';
import { isValidationError } from '../../src/core/errors.js';
import { resolveConnection } from '../../src/kafka/kafkaClient.js';
import { translateKafkaError } from '../../src/kafka/kafkaErrors.js';
import { type KafkaRecord } from '../../src/kafka/kafkaMessage.js';
import { createRecordSender, stopProducerThread } from '../../src/kafka/kafkaProducerThread.js';
import { startKafkaPublisher } from '../../src/kafka/kafkaPublisher.js';
import type {
  KafkaPublisherNotice,
  KafkaPublisherOptions,
} from '../../src/kafka/kafkaPublisherTypes.js';
import { createSqliteEventStore } from '../../src/sqlite/sqliteEventStore.js';
import { serviceAvailable } from '../support/services.js';
import { BROKERS, KafkaTestKit, type ReadMessage, runFixture } from './kafkaTestKit.js';

const available = await serviceAvailable('kafka');

const record = (topic: string, key: string, value: string): KafkaRecord => ({
  topic,
  key,
  value: Buffer.from(value, 'utf8'),
  headers: new Map([['event-id', `${key}-${value.length}`]]),
});

/** Text that does not compress, so the broker (not a size pre-check) refuses it. */
const incompressible = (length: number): string =>
  Array.from({ length }, () => Math.random().toString(36).slice(2, 3)).join('');

describe('the publisher sender', () => {
  const connection = resolveConnection({ brokers: BROKERS }, 'eventloom-tests');

  it('runs the client in the producer thread, which takes a request behind the one on the wire', () => {
    expect(createRecordSender(connection, 'none', true).pipeline).toBe(2);
  });

  it("runs the client in the publisher's own thread when asked to, one request at a time", () => {
    expect(createRecordSender(connection, 'none', false).pipeline).toBe(1);
  });

  it("runs the client in the publisher's own thread when its settings cannot be handed to a thread", () => {
    const withCallback = resolveConnection(
      {
        client: {
          bootstrapBrokers: BROKERS,
          sasl: { mechanism: 'OAUTHBEARER', token: async () => 'token' },
        } as never,
      },
      'eventloom-tests',
    );
    expect(createRecordSender(withCallback, 'none', true).pipeline).toBe(1);
  });
});

describe.skipIf(!available)('Kafka publisher: the producer thread', () => {
  const kit = new KafkaTestKit();
  const stores: EventStore[] = [];
  const stops: (() => Promise<void>)[] = [];
  const fresh = (): EventStore => {
    const store = createSqliteEventStore({ path: ':memory:' });
    stores.push(store);
    return store;
  };
  const start = (options: KafkaPublisherOptions) => {
    const publisher = startKafkaPublisher({
      retry: { initialDelayMs: 50, maxDelayMs: 500 },
      createTopics: false,
      ...options,
    });
    stops.push(() => publisher.stop());
    return publisher;
  };

  beforeAll(async () => {
    await kit.admin.listTopics();
  });
  afterAll(async () => {
    await Promise.all(stops.map((s) => s()));
    await Promise.all(stores.map((s) => s.close().catch(() => undefined)));
    await kit.cleanup();
  });

  it("sends the very bytes the publisher's own thread sends, to the same partitions, for arbitrary events", async () => {
    const store = fresh();
    const events = fc.sample(
      fc.record({
        stream: fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }),
        type: fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }),
        data: fc.jsonValue({ maxDepth: 3 }),
        correlationId: fc.option(fc.string({ unit: 'binary', minLength: 1 }), { nil: undefined }),
        causationId: fc.option(fc.string({ unit: 'binary', minLength: 1 }), { nil: undefined }),
        extra: fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
      }),
      { numRuns: 300, seed: 20261130 },
    );
    let appended = 0;
    for (const e of events) {
      try {
        await store.appendToStream(`s-${e.stream}`, [
          {
            type: e.type,
            data: e.data,
            metadata: {
              ...e.extra,
              ...(e.correlationId === undefined ? {} : { correlationId: e.correlationId }),
              ...(e.causationId === undefined ? {} : { causationId: e.causationId }),
            },
          },
        ]);
        appended++;
      } catch (error) {
        // Some generated stream ids or types are not allowed; those are not events.
        if (!isValidationError(error)) throw error;
      }
    }
    expect(appended).toBeGreaterThan(200);
    const head = await store.headPosition();
    const published = async (producerThread: boolean): Promise<Map<string, ReadMessage>> => {
      const topic = await kit.createTopic(`bytes-${producerThread}`, 3);
      // Small requests: many of them, queued behind each other in the thread.
      const publisher = start({
        store,
        brokers: BROKERS,
        name: `bytes-${producerThread}`,
        topicFor: () => topic,
        batchSize: 16,
        producerThread,
      });
      await publisher.waitFor(head);
      return new Map((await kit.readTopic(topic)).map((m) => [m.headers['event-id']!, m]));
    };
    const threaded = await published(true);
    const inThread = await published(false);
    expect(threaded.size).toBe(appended);
    expect(inThread.size).toBe(appended);
    for (const [id, m] of inThread) {
      const t = threaded.get(id);
      expect(t, `event ${id} from the thread`).toBeDefined();
      expect({ ...t!, topic: '', offset: 0n }).toEqual({ ...m, topic: '', offset: 0n });
    }
  });

  it('answers requests in order, and sends none of those queued behind one the broker refused', async () => {
    const topic = await kit.createTopic('order', 1, { 'max.message.bytes': '20000' });
    const sender = createRecordSender(
      resolveConnection({ brokers: BROKERS }, 'eventloom-tests-order'),
      'lz4',
      true,
    );
    try {
      // Made at once, before the first is answered; each outcome is taken as it settles.
      const outcome = (p: Promise<void>) =>
        p.then(
          () => 'sent',
          (e: unknown) => e,
        );
      const first = outcome(sender.send([record(topic, 'a', 'first')]));
      const refused = outcome(sender.send([record(topic, 'b', incompressible(40_000))]));
      const behind = outcome(sender.send([record(topic, 'c', 'behind')]));
      expect(await first).toBe('sent');
      expect(
        translateKafkaError(await refused, {
          brokers: BROKERS,
          action: 'sending',
          fallback: 'PRODUCE_FAILED',
        }).reason,
      ).toBe('MESSAGE_TOO_LARGE');
      expect(String(await behind)).toMatch(/not sent: a request before it failed/);
      // Made after the failure was answered, but before the sender was closed: not sent either.
      expect(String(await outcome(sender.send([record(topic, 'd', 'late')])))).toMatch(
        /not sent: a request before it failed/,
      );
      expect((await kit.readTopic(topic)).map((m) => m.key)).toEqual(['a']);

      // After the failure the sender starts afresh (new producer id), as the publisher does.
      await sender.close();
      await sender.send([record(topic, 'c', 'behind')]);
      expect((await kit.readTopic(topic)).map((m) => m.key)).toEqual(['a', 'c']);
    } finally {
      await sender.dispose();
    }
  });

  for (const producerThread of [true, false]) {
    it(`parks an event the broker refuses with requests queued behind it, and publishes the rest once each, in order (producerThread: ${producerThread})`, async () => {
      const store = fresh();
      const topic = await kit.createTopic('queued', 1, { 'max.message.bytes': '20000' });
      const small = (from: number, to: number) =>
        Array.from({ length: to - from }, (_, i) => ({ type: 'Small', data: { i: from + i } }));
      await store.appendToStream('doc-a', small(0, 300));
      await store.appendToStream('doc-x', [
        { type: 'Huge', data: { random: incompressible(40_000) } },
      ]);
      await store.appendToStream('doc-b', small(300, 600));
      const publisher = start({
        store,
        brokers: BROKERS,
        name: `queued-${producerThread}`,
        topicFor: () => topic,
        compression: 'lz4',
        batchSize: 50,
        producerThread,
      });
      await publisher.waitFor(601);
      const parked = await store.checkpoints.listParked(`queued-${producerThread}`);
      expect(parked.map((p) => p.event.type)).toEqual(['Huge']);
      const positions = (await kit.readTopic(topic)).map((m) => Number(m.headers.position));
      expect(positions).toEqual([
        ...Array.from({ length: 300 }, (_, i) => i + 1),
        ...Array.from({ length: 300 }, (_, i) => i + 302),
      ]);
    });
  }

  it("goes on in the publisher's own thread when the producer thread dies mid-publish, losing nothing", async () => {
    const store = fresh();
    const topic = await kit.createTopic('dies', 3);
    for (let s = 0; s < 20; s++) {
      await store.appendToStream(
        `acct-${s}`,
        Array.from({ length: 150 }, (_, i) => ({ type: 'Counted', data: { i } })),
      );
    }
    const head = await store.headPosition();
    const notices: KafkaPublisherNotice[] = [];
    let stopping: Promise<void> | undefined;
    const publisher = start({
      store,
      brokers: BROKERS,
      name: 'dies',
      topicFor: () => topic,
      batchSize: 100,
      onEvent: (n) => {
        notices.push(n);
        if (n.kind === 'published' && stopping === undefined) stopping = stopProducerThread();
      },
    });
    await publisher.waitFor(head, 60_000);
    await stopping;
    expect(
      notices.some((n) => n.kind === 'retry' && /producer thread stopped/.test(n.error.message)),
    ).toBe(true);
    expect(notices.filter((n) => n.kind === 'producer-thread-failed')).toHaveLength(1);
    const messages = await kit.readTopic(topic);
    // At least once, and each stream in order of first appearance.
    const firstSeen = new Map<string, number[]>();
    const seen = new Set<string>();
    for (const m of messages) {
      const id = m.headers['event-id']!;
      if (seen.has(id)) continue;
      seen.add(id);
      firstSeen.set(m.key!, [
        ...(firstSeen.get(m.key!) ?? []),
        Number(m.headers['stream-version']),
      ]);
    }
    expect(seen.size).toBe(head);
    for (const versions of firstSeen.values()) {
      expect(versions).toEqual(Array.from({ length: 150 }, (_, i) => i + 1));
    }
  });

  it('lets a process that published and stopped its publisher end by itself', async () => {
    const topic = await kit.createTopic('exits', 1);
    const child = runFixture('publishThenEnd.ts', [topic]);
    expect(await child.exited, child.stderr()).toBe(0);
    expect(child.lines).toContain('published 25');
    expect(await kit.readTopic(topic)).toHaveLength(25);
  });
});
