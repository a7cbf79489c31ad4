import { afterAll, describe, expect, it } from 'vitest';
import { createMemoryEventStore } from '../../src/core/memoryEventStore.js';
import { startKafkaPublisher } from '../../src/kafka/kafkaPublisher.js';

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
});
