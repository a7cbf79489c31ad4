import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { createMemoryEventStore } from '../../src/core/memoryEventStore.js';
import { startKafkaConsumer } from '../../src/kafka/kafkaConsumer.js';
import { startKafkaPublisher } from '../../src/kafka/kafkaPublisher.js';
import { createMetricsRegistry } from '../../src/node/metricsRegistry.js';
import { captureLogger } from '../support/captureLogger.js';
import { serviceAvailable } from '../support/services.js';
import { BROKERS, KafkaTestKit } from './kafkaTestKit.js';

afterEach(() => vi.restoreAllMocks());

const spyOnConsole = () => [
  vi.spyOn(console, 'log'),
  vi.spyOn(console, 'warn'),
  vi.spyOn(console, 'error'),
  vi.spyOn(process, 'emitWarning'),
];

describe('Kafka consumer notices', () => {
  it('go to the injected logger, count in the registry and still reach onEvent, never the console', async () => {
    const console = spyOnConsole();
    const { logger, lines } = captureLogger();
    const registry = createMetricsRegistry();
    const notices: string[] = [];
    const consumer = startKafkaConsumer({
      brokers: '127.0.0.1:1', // nothing listens there
      groupId: 'notices-nobody-home',
      topics: ['eventloom.user'],
      handler: () => undefined,
      retry: { initialDelayMs: 20, maxDelayMs: 100 },
      onEvent: (n) => notices.push(n.kind),
      logger,
      metrics: registry,
    });
    try {
      await vi.waitFor(
        () => expect(notices.filter((k) => k === 'error').length).toBeGreaterThanOrEqual(2),
        15_000,
      );
      expect(lines).toContainEqual(
        expect.objectContaining({
          level: 'warn',
          msg: 'kafka error',
          fields: expect.objectContaining({ groupId: 'notices-nobody-home' }) as unknown,
        }),
      );
      const text = await registry.metrics();
      const errors =
        /eventloom_kafka_consumer_errors_total\{group="notices-nobody-home"\} (\d+)/.exec(text);
      expect(Number(errors?.[1])).toBeGreaterThanOrEqual(2);
      for (const spy of console) expect(spy).not.toHaveBeenCalled();
    } finally {
      await consumer.stop().catch(() => undefined);
    }
  });
});

const kafkaUp = await serviceAvailable('kafka');

describe.skipIf(!kafkaUp)('Kafka publisher notices', () => {
  const kit = new KafkaTestKit();
  afterAll(() => kit.cleanup());

  it('log batches at debug and count published events in the registry', async () => {
    const console = spyOnConsole();
    const topic = kit.topicName('notices');
    const { logger, lines } = captureLogger();
    const registry = createMetricsRegistry();
    const store = createMemoryEventStore();
    const publisher = startKafkaPublisher({
      store,
      name: 'notices-publisher',
      brokers: BROKERS,
      topicFor: () => topic,
      createTopics: { partitions: 1 },
      logger,
      metrics: registry,
    });
    try {
      for (let i = 0; i < 5; i++) {
        await store.appendToStream(`order-${i}`, [{ type: 'Placed', data: { i } }]);
      }
      await publisher.waitFor(5, 20_000);
      expect(lines).toContainEqual(
        expect.objectContaining({
          level: 'debug',
          msg: 'kafka published',
          fields: expect.objectContaining({ publisher: 'notices-publisher' }) as unknown,
        }),
      );
      await expect
        .poll(() => registry.metrics())
        .toContain('eventloom_kafka_published_total{publisher="notices-publisher"} 5');
      for (const spy of console) expect(spy).not.toHaveBeenCalled();
    } finally {
      await publisher.stop();
    }
  });
});
