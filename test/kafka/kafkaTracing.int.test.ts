// Trace context across Kafka: the publisher copies each event's traceparent into the message
// headers, and the consumer handles the message in a span of that trace (over the real broker).
import { Producer, stringSerializers } from '@platformatic/kafka';
import { SpanKind, trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createMemoryEventStore } from '../../src/core/memoryEventStore.js';
import { toEventJson } from '../../src/core/eventJson.js';
import { tracer } from '../../src/core/tracing.js';
import type { EventStore } from '../../src/core/types.js';
import { startKafkaConsumer } from '../../src/kafka/kafkaConsumer.js';
import type { KafkaConsumerOptions } from '../../src/kafka/kafkaConsumerTypes.js';
import { createMetricsRegistry } from '../../src/node/metricsRegistry.js';
import { serviceAvailable } from '../support/services.js';
import { registerTestTracing, type TestTracing } from '../support/tracing.js';
import { BROKERS, KafkaTestKit, publishStore } from './kafkaTestKit.js';

const available = await serviceAvailable('kafka');

/** Appends one event inside a `command` span; its trace id. */
async function appendTraced(store: EventStore, streamId: string): Promise<string> {
  return tracer.startActiveSpan('command', async (span) => {
    await store.appendToStream(streamId, [{ type: 'Counted', data: { n: 1 } }]);
    span.end();
    return span.spanContext().traceId;
  });
}

describe.skipIf(!available)('tracing over Kafka', () => {
  const kit = new KafkaTestKit();
  const stops: (() => Promise<void>)[] = [];
  let tracing: TestTracing;
  const start = (options: KafkaConsumerOptions) => {
    const consumer = startKafkaConsumer({
      retry: { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 50 },
      ...options,
    });
    stops.push(() => consumer.stop());
    return consumer;
  };
  beforeAll(() => {
    tracing = registerTestTracing();
  });
  afterAll(async () => {
    await Promise.all(stops.map((s) => s()));
    await kit.cleanup();
    await tracing.shutdown();
  });

  it('continues the trace of the command that appended an event in the consumer of another group, across the broker', async () => {
    const topic = await kit.createTopic('traced', 1);
    const store = createMemoryEventStore();
    const traceId = await appendTraced(store, 'user-1');
    await publishStore(store, topic);
    const [message] = await kit.readTopic(topic);
    expect(message?.headers.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    // The message's own producer span (`create`) is in the append's trace, and its context is
    // what the header carries on; the batch's `send` span links to it.
    const [create] = tracing.spans(`create ${topic}`);
    expect(create?.kind).toBe(SpanKind.PRODUCER);
    expect(create?.spanContext().traceId).toBe(traceId);
    expect(create?.attributes).toMatchObject({
      'messaging.system': 'kafka',
      'messaging.operation.type': 'create',
      'messaging.destination.name': topic,
      'messaging.kafka.message.key': 'user-1',
    });
    expect(message?.headers.traceparent?.slice(36, 52)).toBe(create?.spanContext().spanId);
    const send = tracing.spans(`send ${topic}`)[0];
    expect(send?.kind).toBe(SpanKind.PRODUCER);
    expect(send?.attributes).toMatchObject({
      'messaging.system': 'kafka',
      'messaging.operation.type': 'send',
      'messaging.destination.name': topic,
    });
    expect(send?.links.map((l) => l.context.spanId)).toEqual([create?.spanContext().spanId]);

    const seen: string[] = [];
    let failures = 0;
    start({
      brokers: BROKERS,
      groupId: kit.groupName('traced'),
      topics: [topic],
      handler: () => {
        seen.push(trace.getActiveSpan()?.spanContext().traceId ?? 'none');
        if (failures++ === 0) throw new Error('read model down, once');
      },
    });
    await vi.waitFor(() => expect(seen).toHaveLength(2), 20_000);
    expect(seen).toEqual([traceId, traceId]);
    await vi.waitFor(() => expect(tracing.spans(`process ${topic}`)).toHaveLength(1));
    const [process] = tracing.spans(`process ${topic}`);
    expect(process?.kind).toBe(SpanKind.CONSUMER);
    expect(process?.spanContext().traceId).toBe(traceId);
    expect(process?.parentSpanContext?.spanId).toBe(message?.headers.traceparent?.slice(36, 52));
    expect(process?.attributes).toMatchObject({
      'messaging.system': 'kafka',
      'messaging.operation.type': 'process',
      'messaging.destination.name': topic,
      'messaging.destination.partition.id': '0',
      'messaging.kafka.offset': 0,
      'eventloom.stream.id': 'user-1',
      'eventloom.outcome': 'handled',
    });
    // The failed first attempt is on the span, with its number.
    expect(process?.events.map((e) => [e.name, e.attributes?.['eventloom.attempt']])).toEqual([
      ['handler failed', 1],
    ]);
  });

  it('handles a message whose traceparent header is malformed in a new trace, and counts it', async () => {
    const topic = await kit.createTopic('badtrace', 1);
    const source = createMemoryEventStore();
    await source.appendToStream('user-2', [{ type: 'Counted', data: { n: 2 } }]);
    const [event] = await source.readAll();
    const producer = new Producer({
      clientId: 't',
      bootstrapBrokers: BROKERS,
      serializers: stringSerializers,
    });
    const garbage = '00-not-a-trace-01';
    await producer.send({
      messages: [
        {
          topic,
          key: 'user-2',
          value: JSON.stringify(toEventJson(event!)),
          headers: new Map([['traceparent', garbage]]),
        },
      ],
    });
    await producer.close();
    const registry = createMetricsRegistry();
    const groupId = kit.groupName('badtrace');
    const seen: string[] = [];
    start({
      brokers: BROKERS,
      groupId,
      topics: [topic],
      metrics: registry,
      handler: () => void seen.push(trace.getActiveSpan()?.spanContext().traceId ?? 'none'),
    });
    await vi.waitFor(() => expect(seen).toHaveLength(1), 20_000);
    expect(seen[0]).toMatch(/^[0-9a-f]{32}$/);
    await vi.waitFor(() => expect(tracing.spans(`process ${topic}`)).toHaveLength(1));
    const [process] = tracing.spans(`process ${topic}`);
    expect(process?.spanContext().traceId).toBe(seen[0]);
    expect(process?.parentSpanContext).toBeUndefined();
    expect(await registry.metrics()).toContain(
      `eventloom_kafka_consumer_malformed_traceparent_total{group="${groupId}"} 1`,
    );
  });
});
