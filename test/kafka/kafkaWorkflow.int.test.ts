import { afterAll, describe, expect, it } from 'vitest';
import { createMemoryEventStore } from '../../src/core/memoryEventStore.js';
import { readWorkflowInstance } from '../../src/core/workflowInspection.js';
import {
  runKafkaWorkflow,
  startKafkaPublisher,
  type KafkaWorkflowRunner,
} from '../../src/kafka/index.js';
import { serviceAvailable } from '../support/services.js';
import {
  manualClock,
  orderEffects,
  PAYMENT_TIMEOUT_MS,
  paymentOptions,
  paymentWorkflow,
} from '../support/paymentWorkflow.js';
import { BROKERS, KafkaTestKit } from './kafkaTestKit.js';

const available = await serviceAvailable('kafka');

describe.skipIf(!available)('workflows on a Kafka consumer group', () => {
  const kit = new KafkaTestKit();
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    await kit.cleanup();
  });

  it('runs the same workflow definition from a topic: effects once, across a redelivery of the whole topic, and timers', async () => {
    const store = createMemoryEventStore();
    const clock = manualClock();
    const topic = kit.topicName('shop');
    const publisher = startKafkaPublisher({
      store,
      brokers: BROKERS,
      name: 'shop-publisher',
      topicFor: () => topic,
      createTopics: { partitions: 2, replicationFactor: 1 },
    });
    cleanups.push(() => publisher.stop());
    const start = (groupId: string): KafkaWorkflowRunner => {
      const runner = runKafkaWorkflow({
        brokers: BROKERS,
        topics: [topic],
        groupId,
        ...paymentOptions(store, store.documents.async, clock.now),
        autoFireTimers: false,
        createTopics: false,
        deadLetterTopic: false,
      });
      cleanups.push(() => runner.stop());
      return runner;
    };

    await store.appendToStream('shop-o1', [{ type: 'OrderPlaced', data: { orderId: 'o1' } }]);
    await store.appendToStream('shop-o2', [{ type: 'OrderPlaced', data: { orderId: 'o2' } }]);
    await store.appendToStream('shop-o2', [{ type: 'OrderPaid', data: { orderId: 'o2' } }]);
    const first = start(kit.groupName('payment'));
    await expect
      .poll(() => orderEffects(store, 'o1'), { timeout: 30_000 })
      .toEqual(['StockReserved']);
    await expect
      .poll(() => orderEffects(store, 'o2'), { timeout: 30_000 })
      .toEqual(['StockReserved', 'OrderShipped']);
    await first.stop();

    // A new group reads the topic from the start: every input comes again and acts never.
    const second = start(kit.groupName('payment-again'));
    await expect.poll(() => second.status().handled, { timeout: 30_000 }).toBeGreaterThanOrEqual(3);
    clock.advance(PAYMENT_TIMEOUT_MS);
    expect(await second.fireDueTimers()).toBe(1);
    expect(await orderEffects(store, 'o1')).toEqual(['StockReserved', 'OrderCancelled']);
    expect(await orderEffects(store, 'o2')).toEqual(['StockReserved', 'OrderShipped']);
    const view = await readWorkflowInstance(store, paymentWorkflow, 'o1');
    expect(view.inputs.map((i) => i.input.type)).toEqual(['OrderPlaced', 'PaymentTimedOut']);
  });
});
