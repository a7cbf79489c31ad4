import { Producer, stringSerializers } from '@platformatic/kafka';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createMemoryEventStore } from '../../src/core/memoryEventStore.js';
import type { EventStore } from '../../src/core/types.js';
import { startKafkaConsumer } from '../../src/kafka/kafkaConsumer.js';
import type {
  KafkaConsumerNotice,
  KafkaConsumerOptions,
  KafkaHandlerContext,
} from '../../src/kafka/kafkaConsumerTypes.js';
import { DEAD_LETTER_HEADERS } from '../../src/kafka/kafkaDeadLetters.js';
import type { KafkaError } from '../../src/kafka/kafkaErrors.js';
import { serviceAvailable } from '../support/services.js';
import { BROKERS, KafkaTestKit, publishStore } from './kafkaTestKit.js';

const available = await serviceAvailable('kafka');

type CounterEvent =
  { type: 'Counted'; data: { n: number } } | { type: 'Poison'; data: { n: number } };

/** Appends `perStream` events to each stream and publishes them to `topic` through the store. */
async function publish(
  topic: string,
  streams: string[],
  perStream: number,
  poison?: (s: string, n: number) => boolean,
): Promise<EventStore> {
  const store = createMemoryEventStore();
  for (let n = 1; n <= perStream; n++) {
    for (const s of streams) {
      await store.appendToStream(s, [{ type: poison?.(s, n) ? 'Poison' : 'Counted', data: { n } }]);
    }
  }
  await publishStore(store, topic);
  return store;
}

describe.skipIf(!available)('Kafka consumer', () => {
  const kit = new KafkaTestKit();
  const stops: (() => Promise<void>)[] = [];
  const start = <E extends { type: string; data: unknown }>(options: KafkaConsumerOptions<E>) => {
    const consumer = startKafkaConsumer<E>({
      retry: { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 50 },
      ...options,
    });
    stops.push(() => consumer.stop());
    return consumer;
  };
  afterAll(async () => {
    await Promise.all(stops.map((s) => s()));
    await kit.cleanup();
  });

  it('hands each event to the handler parsed back and typed, in stream order, with its Kafka coordinates', async () => {
    const topic = await kit.createTopic('typed');
    const streams = ['user-a', 'user-b', 'user-c'];
    await publish(topic, streams, 20);
    const groupId = kit.groupName('typed');
    const seen = new Map<string, number[]>();
    const contexts: KafkaHandlerContext[] = [];
    let recordedAtIsDate = true;
    const consumer = start<CounterEvent>({
      brokers: BROKERS,
      groupId,
      topics: [topic],
      handler: async (event, ctx) => {
        const n: number = event.data.n; // typed: data of a CounterEvent
        recordedAtIsDate &&= event.recordedAt instanceof Date;
        seen.set(event.streamId, [...(seen.get(event.streamId) ?? []), n]);
        contexts.push(ctx);
      },
    });
    await consumer.ready;
    await kit.waitForGroup(groupId, topic);
    for (const s of streams)
      expect(seen.get(s)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(recordedAtIsDate).toBe(true);
    const ctx = contexts[0]!;
    expect(ctx.topic).toBe(topic);
    expect(ctx.groupId).toBe(groupId);
    expect(typeof ctx.offset).toBe('bigint');
    expect(streams).toContain(ctx.key);
    expect(ctx.headers['event-type']).toBe('Counted');
    expect(ctx.attempt).toBe(1);
    expect(consumer.status()).toMatchObject({ state: 'running', handled: 60, deadLettered: 0 });
    await consumer.stop();
    expect(consumer.status().state).toBe('stopped');
  });

  it('retries a failing handler with backoff, then dead-letters the message with the reason while the rest keep flowing', async () => {
    const topic = await kit.createTopic('dlq');
    kit.track(`${topic}.dlq`);
    await publish(topic, ['order-1', 'order-2'], 10, (s, n) => s === 'order-1' && n === 4);
    const groupId = kit.groupName('dlq');
    const attempts: number[] = [];
    const handled: string[] = [];
    const notices: KafkaConsumerNotice[] = [];
    start<CounterEvent>({
      brokers: BROKERS,
      groupId,
      topics: [topic],
      onEvent: (n) => notices.push(n),
      handler: async (event, ctx) => {
        if (event.type === 'Poison') {
          attempts.push(ctx.attempt);
          throw new Error(`cannot apply ${event.streamId} #${event.data.n}`);
        }
        handled.push(`${event.streamId}#${event.data.n}`);
      },
    });
    await kit.waitForGroup(groupId, topic);
    expect(attempts).toEqual([1, 2, 3]);
    expect(handled).toHaveLength(19);
    expect(handled).toContain('order-1#5'); // the same stream goes on after the dead letter
    expect(notices.filter((n) => n.kind === 'retry')).toHaveLength(2);

    const [dead] = await kit.readTopic(`${topic}.dlq`);
    expect(dead!.headers).toMatchObject({
      [DEAD_LETTER_HEADERS.originalTopic]: topic,
      [DEAD_LETTER_HEADERS.error]: 'cannot apply order-1 #4',
      [DEAD_LETTER_HEADERS.attempts]: '3',
      [DEAD_LETTER_HEADERS.groupId]: groupId,
      'event-type': 'Poison',
    });
    expect(Number(dead!.headers[DEAD_LETTER_HEADERS.originalPartition])).toBeGreaterThanOrEqual(0);
    expect(dead!.headers[DEAD_LETTER_HEADERS.originalOffset]).toMatch(/^\d+$/);
    expect(dead!.key).toBe('order-1');
    expect(JSON.parse(dead!.value!)).toMatchObject({ type: 'Poison', data: { n: 4 } });
    const deadNotice = notices.find((n) => n.kind === 'dead-lettered');
    expect(deadNotice).toMatchObject({ deadLetterTopic: `${topic}.dlq`, attempts: 3 });
  });

  it('dead-letters every message when several partitions fail at the same moment', async () => {
    const topic = await kit.createTopic('dlq-many', 4);
    kit.track(`${topic}.dlq`);
    const streams = Array.from({ length: 8 }, (_, i) => `order-${i}`);
    await publish(topic, streams, 5, () => true);
    const groupId = kit.groupName('dlq-many');
    start<CounterEvent>({
      brokers: BROKERS,
      groupId,
      topics: [topic],
      retry: { maxAttempts: 1 },
      handler: async (event) => {
        throw new Error(`cannot apply ${event.streamId} #${event.data.n}`);
      },
    });
    await kit.waitForGroup(groupId, topic);
    const source = await kit.readTopic(topic);
    expect(new Set(source.map((m) => m.partition)).size).toBeGreaterThan(1);
    const dead = await kit.readTopic(`${topic}.dlq`);
    const coordinates = (headers: Record<string, string>) =>
      `${headers[DEAD_LETTER_HEADERS.originalPartition]}@${headers[DEAD_LETTER_HEADERS.originalOffset]}`;
    // The writer's idempotent producer sends one record at a time: concurrent records on one
    // producer shared sequence numbers and the broker dropped all but one as duplicates.
    expect(new Set(dead.map((m) => coordinates(m.headers)))).toEqual(
      new Set(source.map((m) => `${m.partition}@${m.offset}`)),
    );
  });

  it('dead-letters a message that is not an Eventloom event at once, without calling the handler', async () => {
    const topic = await kit.createTopic('foreign', 1);
    const dlq = kit.topicName('foreign-dlq');
    const producer = new Producer({
      clientId: 't',
      bootstrapBrokers: BROKERS,
      serializers: stringSerializers,
    });
    await producer.send({ messages: [{ topic, key: 'k', value: 'not json at all' }] });
    await producer.close();
    await publish(topic, ['user-1'], 1);
    const groupId = kit.groupName('foreign');
    const types: string[] = [];
    start({
      brokers: BROKERS,
      groupId,
      topics: [topic],
      deadLetterTopic: dlq,
      handler: (e) => void types.push(e.type),
    });
    await kit.waitForGroup(groupId, topic);
    expect(types).toEqual(['Counted']);
    const [dead] = await kit.readTopic(dlq);
    expect(dead!.value).toBe('not json at all');
    expect(dead!.headers[DEAD_LETTER_HEADERS.error]).toMatch(
      /^not an Eventloom event: message.value: is not JSON/,
    );
    expect(dead!.headers[DEAD_LETTER_HEADERS.attempts]).toBe('0');
  });

  it('commits only what the handler finished: a consumer stopped mid-way leaves the unfinished message to the next one', async () => {
    const topic = await kit.createTopic('commit', 1);
    await publish(topic, ['acct-1'], 20);
    const groupId = kit.groupName('commit');
    const firstRun: number[] = [];
    const first = start<CounterEvent>({
      brokers: BROKERS,
      groupId,
      topics: [topic],
      shutdownTimeoutMs: 2000,
      handler: async (event, ctx) => {
        if (event.data.n === 8) {
          // Never finishes on its own: gives up when the consumer stops.
          await new Promise((_, reject) =>
            ctx.signal.addEventListener('abort', () => reject(new Error('stopped'))),
          );
        }
        firstRun.push(event.data.n);
      },
    });
    await vi.waitFor(() => expect(firstRun).toHaveLength(7), 15_000);
    // The periodic commit covers the seven finished messages while #8 hangs, and no more.
    await expect
      .poll(() => kit.committedOffsets(groupId, topic), { timeout: 10_000 })
      .toEqual([7n]);
    await first.stop();
    expect(firstRun).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(await kit.committedOffsets(groupId, topic)).toEqual([7n]); // next to read: offset 7 = #8

    const secondRun: number[] = [];
    start<CounterEvent>({
      brokers: BROKERS,
      groupId,
      topics: [topic],
      handler: (event) => void secondRun.push(event.data.n),
    });
    await kit.waitForGroup(groupId, topic);
    expect(secondRun).toEqual(Array.from({ length: 13 }, (_, i) => i + 8));
  });

  it('shares the partitions with a member that joins mid-way and loses nothing in the rebalance', async () => {
    const topic = await kit.createTopic('rebalance', 3);
    const streams = Array.from({ length: 12 }, (_, i) => `cart-${i}`);
    const store = await publish(topic, streams, 25);
    const all = (await store.readAll()).map((e) => e.id);
    const groupId = kit.groupName('rebalance');
    const handledBy = { a: new Set<string>(), b: new Set<string>() };
    let duplicates = 0;
    const handler = (who: 'a' | 'b') => async (event: { id: string }) => {
      // Slow work, not synchronisation: keeps a busy long enough for b to join mid-way.
      await new Promise((r) => setTimeout(r, 20));
      if (handledBy.a.has(event.id) || handledBy.b.has(event.id)) duplicates++;
      handledBy[who].add(event.id);
    };
    const a = start({ brokers: BROKERS, groupId, topics: [topic], handler: handler('a') });
    await vi.waitFor(() => expect(handledBy.a.size).toBeGreaterThanOrEqual(40), 15_000);
    const b = start({ brokers: BROKERS, groupId, topics: [topic], handler: handler('b') });
    await b.ready;
    await kit.waitForGroup(groupId, topic, 30_000);
    const union = new Set([...handledBy.a, ...handledBy.b]);
    expect([...union].sort()).toEqual([...all].sort());
    expect(handledBy.b.size).toBeGreaterThan(0);
    expect(a.status().assignments.length + b.status().assignments.length).toBe(3);
    expect(b.status().assignments.length).toBeGreaterThan(0);
    // Redelivery is allowed (at least once) but bounded by what was in flight at the rebalance.
    expect(duplicates).toBeLessThan(all.length / 4);
  });

  it('reports an unreachable broker with the broker list and keeps retrying until stopped', async () => {
    const notices: KafkaConsumerNotice[] = [];
    const consumer = startKafkaConsumer({
      brokers: '127.0.0.1:1',
      groupId: 'nobody-home',
      topics: ['eventloom.user'],
      handler: () => undefined,
      retry: { initialDelayMs: 20, maxDelayMs: 100 },
      onEvent: (n) => notices.push(n),
    });
    await vi.waitFor(
      () => expect(notices.filter((n) => n.kind === 'error').length).toBeGreaterThanOrEqual(2),
      15_000,
    );
    const error = (notices.find((n) => n.kind === 'error') as { error: KafkaError }).error;
    expect(error.reason).toBe('BROKER_UNREACHABLE');
    expect(error.message).toContain('127.0.0.1:1');
    expect(consumer.status().state).toBe('restarting');
    await consumer.stop();
    expect(consumer.status().state).toBe('stopped');
  });

  it('waits for a topic that does not exist yet, naming it and the fix, and consumes once it is created', async () => {
    const topic = kit.topicName('later');
    const groupId = kit.groupName('later');
    const notices: KafkaConsumerNotice[] = [];
    const seen: number[] = [];
    const consumer = start<CounterEvent>({
      brokers: BROKERS,
      groupId,
      topics: [topic],
      retry: { initialDelayMs: 20, maxDelayMs: 200 },
      onEvent: (n) => notices.push(n),
      handler: (e) => void seen.push(e.data.n),
    });
    await vi.waitFor(() => expect(notices.map((n) => n.kind)).toContain('error'), 10_000);
    const error = (notices.find((n) => n.kind === 'error') as { error: KafkaError }).error;
    expect(error.reason).toBe('TOPIC_MISSING');
    expect(error.message).toContain(`Kafka topic '${topic}' does not exist`);
    expect(consumer.status().lastError).toContain(topic);
    await kit.admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 });
    await publish(topic, ['user-1'], 3);
    await consumer.ready;
    await kit.waitForGroup(groupId, topic);
    expect(seen).toEqual([1, 2, 3]);
    expect(consumer.status().state).toBe('running');
  });

  it('stops loudly, committing nothing past it, when a message keeps failing and there is no dead-letter topic', async () => {
    const topic = await kit.createTopic('nodlq', 1);
    await publish(topic, ['user-1'], 3, (_, n) => n === 2);
    const groupId = kit.groupName('nodlq');
    const consumer = start<CounterEvent>({
      brokers: BROKERS,
      groupId,
      topics: [topic],
      deadLetterTopic: false,
      handler: (event) => {
        if (event.type === 'Poison') throw new Error('bad data');
      },
    });
    await expect(consumer.done).rejects.toThrow(
      /failed 3 time\(s\) and deadLetterTopic is false: bad data/,
    );
    expect(consumer.status().state).toBe('failed');
    expect(await kit.committedOffsets(groupId, topic)).toEqual([1n]);
  });

  it('a session timeout above the default rebalance timeout is valid: the consumer joins and handles events', async () => {
    const topic = await kit.createTopic('long-session', 1);
    await publish(topic, ['user-a'], 2);
    const handled: number[] = [];
    const consumer = start<CounterEvent>({
      brokers: BROKERS,
      groupId: kit.groupName('long-session'),
      topics: [topic],
      // Within the broker's default range (6000–300 000) but above the 30 s rebalance default.
      sessionTimeoutMs: 60_000,
      handler: (event) => {
        handled.push(event.data.n);
      },
    });
    await vi.waitFor(() => expect(handled).toEqual([1, 2]), { timeout: 30_000, interval: 50 });
    expect(consumer.status().lastError).toBeUndefined();
  });

  it("stops with a configuration error carrying the broker's reason when the broker refuses the session timeout", async () => {
    const topic = await kit.createTopic('session', 1);
    const notices: KafkaConsumerNotice[] = [];
    const consumer = start({
      brokers: BROKERS,
      groupId: kit.groupName('session'),
      topics: [topic],
      // Below the broker's group.min.session.timeout.ms (6000 by default).
      sessionTimeoutMs: 1000,
      heartbeatIntervalMs: 300,
      handler: () => undefined,
      onEvent: (n) => notices.push(n),
    });
    const error = await consumer.done.then(
      () => undefined,
      (e: unknown) => e as KafkaError,
    );
    expect(error).toMatchObject({
      code: 'CONFIGURATION',
      reason: 'OPTION_REJECTED',
      retryable: false,
    });
    expect(error?.message).toMatch(/INVALID_SESSION_TIMEOUT/);
    expect(error?.message).toMatch(/sessionTimeoutMs/);
    expect(error?.message).toMatch(/group\.min\.session\.timeout\.ms/);
    expect(consumer.status().state).toBe('failed');
    expect(notices.filter((n) => n.kind === 'error')).toEqual([]);
    await expect(consumer.ready).rejects.toBe(error);
  });
});
