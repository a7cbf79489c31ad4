import { afterAll, describe, expect, it } from 'vitest';
import { createMemoryEventStore } from '../../src/core/memoryEventStore.js';
import { startKafkaPublisher } from '../../src/kafka/kafkaPublisher.js';
import { serviceAvailable } from '../support/services.js';
import { BROKERS, KafkaTestKit } from './kafkaTestKit.js';

describe('Kafka publisher status', () => {
  const stops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    await Promise.all(stops.map((s) => s()));
  });

  it('reports head minus position as the lag while the broker is unreachable and events wait', async () => {
    const store = createMemoryEventStore();
    const publisher = startKafkaPublisher({
      store,
      brokers: '127.0.0.1:1', // nothing listens there
      retry: { initialDelayMs: 20, maxDelayMs: 50 },
    });
    stops.push(() => publisher.stop());
    for (let i = 0; i < 10; i++) {
      await store.appendToStream(`order-${i}`, [{ type: 'Placed', data: { i } }]);
    }
    await expect.poll(() => publisher.status().state).toBe('retrying');
    await expect.poll(() => publisher.status().lag).toBe(10);
    expect(await publisher.lag()).toBe(10);
    expect(publisher.status().headPosition - publisher.status().position).toBe(10);
  });

  it('reads no further than a few batches ahead of Kafka while the broker is unreachable', async () => {
    const store = createMemoryEventStore();
    const batchSize = 50;
    for (let i = 0; i < 20; i++) {
      await store.appendToStream(
        `order-${i}`,
        Array.from({ length: 50 }, (_, n) => ({ type: 'Placed', data: { n } })),
      );
    }
    let retries = 0;
    const publisher = startKafkaPublisher({
      store,
      batchSize,
      brokers: '127.0.0.1:1', // nothing listens there
      retry: { initialDelayMs: 20, maxDelayMs: 50 },
      onEvent: (n) => void (n.kind === 'retry' && retries++),
    });
    stops.push(() => publisher.stop());
    // Three failed sends: time enough for an unbounded reader to buffer all 1,000 events.
    await expect.poll(() => retries, { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
    const { buffered, position } = publisher.status();
    expect(buffered).toBeGreaterThan(0);
    expect(buffered).toBeLessThan(3 * batchSize);
    expect(position).toBe(0);
  });
});

const kafkaUp = await serviceAvailable('kafka');

describe.skipIf(!kafkaUp)('Kafka publisher and a topic deleted under it', () => {
  const kit = new KafkaTestKit();
  afterAll(() => kit.cleanup());

  it('creates the topic again when it is deleted while publishing, and publishes the rest', async () => {
    const topic = kit.topicName('deleted');
    const store = createMemoryEventStore();
    const publisher = startKafkaPublisher({
      store,
      brokers: BROKERS,
      topicFor: () => topic,
      createTopics: { partitions: 1 },
      retry: { initialDelayMs: 50, maxDelayMs: 200 },
    });
    try {
      await store.appendToStream('s', [{ type: 'Placed', data: { n: 1 } }]);
      await publisher.waitFor(1, 20_000);
      await kit.admin.deleteTopics({ topics: [topic] });
      await expect.poll(async () => (await kit.admin.listTopics()).includes(topic)).toBe(false);
      await store.appendToStream('s', [{ type: 'Placed', data: { n: 2 } }]);
      await publisher.waitFor(2, 30_000);
      const messages = await kit.readTopic(topic);
      expect(
        messages.map((m) => (JSON.parse(m.value ?? '{}') as { data: unknown }).data),
      ).toContainEqual({ n: 2 });
    } finally {
      await publisher.stop();
    }
  });
});
