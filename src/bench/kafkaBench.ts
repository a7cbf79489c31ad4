import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Admin, Producer } from '@platformatic/kafka';
import { newEventId } from '../core/eventId.js';
import type { EventStore } from '../core/types.js';
import { loadKafka, parseBrokers } from '../kafka/kafkaClient.js';
import { startKafkaConsumer } from '../kafka/kafkaConsumer.js';
import { type KafkaEventMessage, toKafkaMessage } from '../kafka/kafkaMessage.js';
import { startKafkaPublisher } from '../kafka/kafkaPublisher.js';
import type { KafkaCompression } from '../kafka/kafkaPublisherTypes.js';
import { createSqliteEventStore } from '../sqlite/sqliteEventStore.js';
import {
  type BenchOptions,
  type BenchRow,
  compare,
  time,
  benchPayload,
  median,
} from './benchHarness.js';

export type KafkaWorkload = 'publish-kafka' | 'e2e-latency-kafka';

export interface KafkaBenchOptions extends BenchOptions {
  brokers: string | readonly string[];
  /** Default: both. */
  workloads?: readonly KafkaWorkload[];
  /** Compression for the publisher and the raw producer alike. Default: the publisher's (`'none'`). */
  compression?: KafkaCompression;
}

/** Requests per produce call, the same for the publisher and the raw producer. */
const BATCH = 2000;
const OFFERED_PER_SEC = 1000;

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const ms = (x: number): number => Math.round(x * 100) / 100;

/**
 * Kafka workloads on a real broker:
 * - `publish-kafka`: a backlog of events in an (in-memory SQLite) store published by the
 *   Kafka publisher (read, serialize, idempotent acks=all produce, checkpoint) against a raw
 *   `@platformatic/kafka` producer sending the same messages with the same settings and batch size.
 * - `e2e-latency-kafka`: append → publisher → broker → consumer handler at a fixed offered
 *   rate of 1000 events/s; p50/p99 in `notes`, with a raw producer → raw consumer baseline at
 *   the same rate.
 * Topics are created per run and deleted afterwards.
 */
export async function runKafkaBench(options: KafkaBenchOptions): Promise<BenchRow[]> {
  const brokers = parseBrokers(options.brokers);
  const kafka = await loadKafka();
  const admin: Admin = new kafka.Admin({ clientId: 'eventloom-bench', bootstrapBrokers: brokers });
  // Unique per run, so runs sharing a broker never write to each other's topics.
  const run = randomUUID().slice(0, 8);
  const topics: string[] = [];
  const newTopic = async (name: string): Promise<string> => {
    const topic = `eventloom-bench.${name}.${run}.${topics.length}`;
    await admin.createTopics({ topics: [topic], partitions: 3, replicas: 1 });
    topics.push(topic);
    return topic;
  };
  const compression = options.compression ?? 'none';
  const rawProducer = (): Producer<string, string, string, string> =>
    new kafka.Producer({
      clientId: 'eventloom-bench-raw',
      bootstrapBrokers: brokers,
      idempotent: true,
      compression,
      acks: kafka.ProduceAcks.ALL,
      partitioner: kafka.compatibilityPartitioner,
      serializers: kafka.stringSerializers,
    });
  const rows: BenchRow[] = [];
  const stores: EventStore[] = [];

  try {
    const want = (w: KafkaWorkload): boolean => !options.workloads || options.workloads.includes(w);
    if (want('publish-kafka')) rows.push(await publishBench());
    if (want('e2e-latency-kafka')) rows.push(await latencyBench());
    return rows;
  } finally {
    await Promise.all(stores.map((s) => s.close().catch(() => undefined)));
    if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin
      .deleteGroups({ groups: [`eventloom-bench-${run}`, `eventloom-bench-raw-${run}`] })
      .catch(() => undefined);
    await admin.close().catch(() => undefined);
  }

  async function publishBench(): Promise<BenchRow> {
    // At least a few produce requests: both sides are timed after their first one.
    const total = Math.max(4 * BATCH, Math.round(50_000 * options.scale));
    const store = createSqliteEventStore({ path: ':memory:' });
    stores.push(store);
    options.progress(`kafka: preparing ${total} events for publish-kafka`);
    for (let i = 0; i < total; i += 100) {
      const count = Math.min(100, total - i);
      await store.appendToStream(
        `cart-${(i / 100) % 1000}`,
        Array.from({ length: count }, (_, j) => benchPayload(i + j)),
      );
    }
    const head = await store.headPosition();
    const messages: Omit<KafkaEventMessage, 'topic'>[] = (await store.readAll()).map((e) =>
      toKafkaMessage(e, ''),
    );
    // Warm both paths (connections, JIT) outside the timed rounds: the raw producer sends a
    // batch, and a publisher publishes two batches' worth of the events.
    const warm = await newTopic('warm');
    const warmProducer = rawProducer();
    await warmProducer.send({
      messages: messages.slice(0, BATCH).map((m) => ({ ...m, topic: warm })),
    });
    await warmProducer.close();
    const warmPublisher = startKafkaPublisher({
      store,
      brokers,
      name: `bench-${run}-warm`,
      topicFor: () => warm,
      createTopics: false,
      batchSize: BATCH,
      compression,
    });
    await warmPublisher.waitFor(Math.min(head, 2 * BATCH), 120_000);
    await warmPublisher.stop();

    // Both sides are timed from their first acknowledged request to the last: each round
    // makes a new client, whose connection, producer id, metadata and first request would
    // otherwise weigh on a run of under a second. The whole runs (from the first send, or
    // from the publisher's start) are in the row's notes as the cold rates.
    const cold: { ours: number[]; raw: number[] } = { ours: [], raw: [] };
    const row = await compare(
      'kafka',
      'publish-kafka',
      options,
      async (round) => {
        const topic = await newTopic(`publish-ours-${round}`);
        let first: { at: bigint; position: number } | undefined;
        const started = process.hrtime.bigint();
        const publisher = startKafkaPublisher({
          store,
          brokers,
          name: `bench-${run}-${round}`,
          topicFor: () => topic,
          createTopics: false,
          batchSize: BATCH,
          compression,
          onEvent: (notice) => {
            if (notice.kind === 'published' && first === undefined) {
              first = { at: process.hrtime.bigint(), position: notice.position };
            }
          },
        });
        await publisher.waitFor(head, 120_000);
        const end = process.hrtime.bigint();
        await publisher.stop();
        cold.ours.push(head / (Number(end - started) / 1e9));
        if (first === undefined)
          throw new Error('bench: the publisher reported no published batch');
        return { events: head - first.position, ms: Number(end - first.at) / 1e6 };
      },
      async (round) => {
        const topic = await newTopic(`publish-raw-${round}`);
        const producer = rawProducer();
        const batch = messages.map((m) => ({ ...m, topic }));
        const started = process.hrtime.bigint();
        await producer.send({ messages: batch.slice(0, BATCH) });
        const t = await time(head - BATCH, async () => {
          for (let i = BATCH; i < batch.length; i += BATCH) {
            await producer.send({ messages: batch.slice(i, i + BATCH) });
          }
        });
        cold.raw.push(head / (Number(process.hrtime.bigint() - started) / 1e9));
        await producer.close();
        return t;
      },
    );
    const oursCold = Math.round(median(cold.ours));
    const rawCold = Math.round(median(cold.raw));
    return {
      ...row,
      notes: {
        coldPerSec: oursCold,
        baselineColdPerSec: rawCold,
        coldRatio: Math.round((oursCold / rawCold) * 100) / 100,
      },
    };
  }

  async function latencyBench(): Promise<BenchRow> {
    const seconds = Math.max(2, Math.round(10 * options.scale));
    const events = seconds * OFFERED_PER_SEC;

    /** Offers `events` at 1000/s; `send(i)` starts event i, the latency clock runs from then. */
    const offer = async (send: (i: number) => Promise<unknown>): Promise<void> => {
      const start = performance.now();
      const pending: Promise<unknown>[] = [];
      for (let i = 0; i < events; i++) {
        const due = start + (i * 1000) / OFFERED_PER_SEC;
        const wait = due - performance.now();
        if (wait >= 1) await delay(wait);
        pending.push(send(i));
      }
      await Promise.all(pending);
    };
    const waitCount = async (count: () => number, what: string): Promise<void> => {
      const deadline = Date.now() + 60_000;
      while (count() < events) {
        if (Date.now() > deadline)
          throw new Error(`${what}: ${count()} of ${events} arrived within 60 s`);
        await delay(10);
      }
    };

    // Ours: append to the store; the publisher and a consumer group do the rest.
    options.progress(
      `kafka: e2e latency through the publisher at ${OFFERED_PER_SEC}/s for ${seconds} s`,
    );
    const latencyStore = createSqliteEventStore({ path: ':memory:' });
    stores.push(latencyStore);
    const ourTopic = await newTopic('latency-ours');
    const sentAt = new Map<string, number>();
    const ours: number[] = [];
    const publisher = startKafkaPublisher({
      store: latencyStore,
      brokers,
      name: `bench-latency-${run}`,
      topicFor: () => ourTopic,
      createTopics: false,
      compression,
    });
    const consumer = startKafkaConsumer({
      brokers,
      groupId: `eventloom-bench-${run}`,
      topics: [ourTopic],
      handler: (event) => {
        const t0 = sentAt.get(event.id);
        if (t0 !== undefined) ours.push(performance.now() - t0);
      },
    });
    await consumer.ready;
    // Warmed like the raw producer below, which sends one message first: the publisher's
    // client (in its producer thread, which loads the client package once more) is ready.
    await latencyStore.appendToStream('sensor-warm', [benchPayload(0)]);
    await publisher.waitFor(await latencyStore.headPosition(), 60_000);
    const oursStart = performance.now();
    await offer((i) => {
      const id = newEventId();
      sentAt.set(id, performance.now());
      return latencyStore.appendToStream(`sensor-${i % 100}`, [{ ...benchPayload(i), id }]);
    });
    await waitCount(() => ours.length, 'e2e latency');
    const oursSeconds = (performance.now() - oursStart) / 1000;
    await consumer.stop();
    await publisher.stop();

    // Baseline: the raw client, batching the same way (what is pending goes out when the previous
    // send is acknowledged), straight to a raw consumer.
    options.progress(`kafka: e2e latency raw producer → raw consumer at ${OFFERED_PER_SEC}/s`);
    const rawTopic = await newTopic('latency-raw');
    const raw: number[] = [];
    const rawSentAt = new Map<string, number>();
    const rawConsumer = new kafka.Consumer({
      clientId: 'eventloom-bench-raw',
      groupId: `eventloom-bench-raw-${run}`,
      bootstrapBrokers: brokers,
      deserializers: kafka.stringDeserializers,
    });
    const stream = await rawConsumer.consume({
      topics: [rawTopic],
      mode: kafka.MessagesStreamModes.EARLIEST,
      autocommit: false,
      maxWaitTime: 1000,
    });
    stream.on('data', (m: { key?: string }) => {
      const t0 = m.key === undefined ? undefined : rawSentAt.get(m.key);
      if (t0 !== undefined) raw.push(performance.now() - t0);
    });
    const producer = rawProducer();
    await producer.send({ messages: [{ topic: rawTopic, key: 'warm', value: '{}' }] });
    let pending: KafkaEventMessage[] = [];
    let sending: Promise<void> | undefined;
    const flush = (): Promise<void> =>
      (sending ??= (async () => {
        while (pending.length > 0) {
          const batch = pending;
          pending = [];
          await producer.send({ messages: batch });
        }
      })().finally(() => (sending = undefined)));
    const rawStart = performance.now();
    await offer(async (i) => {
      const key = `k-${i}`;
      rawSentAt.set(key, performance.now());
      pending.push(
        toKafkaMessage(
          {
            ...benchPayload(i),
            id: key,
            streamId: key,
            metadata: {},
            version: 1,
            position: i + 1,
            recordedAt: new Date(),
          },
          rawTopic,
        ),
      );
      await flush();
    });
    await waitCount(() => raw.length, 'raw e2e latency');
    const rawSeconds = (performance.now() - rawStart) / 1000;
    await stream.close();
    await new Promise<void>((resolve) => rawConsumer.close(true, () => resolve()));
    await producer.close();

    ours.sort((a, b) => a - b);
    raw.sort((a, b) => a - b);
    const oursRate = Math.round(events / oursSeconds);
    const rawRate = Math.round(events / rawSeconds);
    const row: BenchRow = {
      backend: 'kafka',
      workload: 'e2e-latency-kafka',
      eventsPerSec: oursRate,
      baselinePerSec: rawRate,
      ratio: Math.round((oursRate / rawRate) * 100) / 100,
      notes: {
        offeredPerSec: OFFERED_PER_SEC,
        events,
        p50Ms: ms(percentile(ours, 50)),
        p90Ms: ms(percentile(ours, 90)),
        p99Ms: ms(percentile(ours, 99)),
        maxMs: ms(ours[ours.length - 1] ?? NaN),
        baselineP50Ms: ms(percentile(raw, 50)),
        baselineP99Ms: ms(percentile(raw, 99)),
      },
    };
    options.progress(
      `kafka e2e-latency-kafka: p50 ${ms(percentile(ours, 50))} ms, p99 ${ms(percentile(ours, 99))} ms (raw client p50 ${ms(percentile(raw, 50))} ms, p99 ${ms(percentile(raw, 99))} ms)`,
    );
    return row;
  }
}
