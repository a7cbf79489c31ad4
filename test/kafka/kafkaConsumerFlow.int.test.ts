import { afterAll, describe, expect, it } from 'vitest';
import { createMemoryEventStore } from '../../src/core/memoryEventStore.js';
import { startKafkaConsumer } from '../../src/kafka/kafkaConsumer.js';
import type { KafkaConsumerOptions } from '../../src/kafka/kafkaConsumerTypes.js';
import { startKafkaPublisher } from '../../src/kafka/kafkaPublisher.js';
import { serviceAvailable } from '../support/services.js';
import { BROKERS, KafkaTestKit } from './kafkaTestKit.js';

const available = await serviceAvailable('kafka');

/** Publishes `perStream` events to each stream, all to `topic`. */
async function publish(topic: string, streams: string[], perStream: number): Promise<void> {
  const store = createMemoryEventStore();
  for (let n = 1; n <= perStream; n++) {
    for (const s of streams) await store.appendToStream(s, [{ type: 'Counted', data: { n } }]);
  }
  const publisher = startKafkaPublisher({ store, brokers: BROKERS, topicFor: () => topic });
  await publisher.waitFor(await store.headPosition());
  await publisher.stop();
}

describe.skipIf(!available)('Kafka consumer flow', () => {
  const kit = new KafkaTestKit();
  const stops: (() => Promise<void>)[] = [];
  const start = (options: KafkaConsumerOptions) => {
    const consumer = startKafkaConsumer(options);
    stops.push(() => consumer.stop());
    return consumer;
  };
  afterAll(async () => {
    await Promise.all(stops.map((s) => s()));
    await kit.cleanup();
  });

  it('moves every partition forward side by side instead of filling the queue from the first ones fetched', async () => {
    const partitions = 6;
    const topic = await kit.createTopic('fair', partitions);
    const streams = Array.from({ length: 60 }, (_, i) => `s-${i}`);
    await publish(topic, streams, 20);
    const handled = Array.from({ length: partitions }, () => 0);
    const groupId = kit.groupName('fair');
    start({
      brokers: BROKERS,
      groupId,
      topics: [topic],
      maxQueued: 60,
      handler: async (_event, ctx) => {
        // A handler with real work to do (a few ms per message, like a database write).
        await new Promise((r) => setTimeout(r, 3));
        handled[ctx.partition] = (handled[ctx.partition] ?? 0) + 1;
      },
    });
    await expect
      .poll(() => handled.reduce((a, b) => a + b, 0), { timeout: 20_000 })
      .toBeGreaterThanOrEqual(300);
    // A quarter of the 1,200 messages: every partition has had its turn by now.
    expect(Math.min(...handled)).toBeGreaterThan(10);
    // And the messages dropped to keep the shares fair were fetched again, none stepped over
    // (at least once: a restart under load may hand a message over twice).
    await expect
      .poll(() => handled.reduce((a, b) => a + b, 0), { timeout: 20_000 })
      .toBeGreaterThanOrEqual(1200);
    const ends = await kit.endOffsets(topic);
    await expect.poll(() => kit.committedOffsets(groupId, topic)).toEqual(ends);
  });

  it('hands every message of a partition to the handler when its share filled and later messages of it arrive on the same fetch', async () => {
    // Two partitions and room for two messages: a partition's share is one message, so while
    // the first is in the handler the rest of the fetched batch is dropped, to be fetched again.
    const topic = await kit.createTopic('gap', 2);
    await publish(topic, ['acct-1'], 5);
    const groupId = kit.groupName('gap');
    const seen: bigint[] = [];
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let startedFirst!: () => void;
    const first = new Promise<void>((resolve) => (startedFirst = resolve));
    const consumer = start({
      brokers: BROKERS,
      groupId,
      topics: [topic],
      maxQueued: 2,
      handler: async (_event, ctx) => {
        seen.push(ctx.offset);
        if (ctx.offset === 0n) {
          startedFirst();
          await released;
        }
      },
    });
    await first;
    // The fetched batch is taken in by promise continuations alone, so one turn of the event
    // loop after the handler started, offsets 1 and 2 have been dropped and the intake waits
    // for room with offsets 3 and 4 still in the stream: exactly the state this test needs.
    await new Promise((resolve) => setImmediate(resolve));
    release();
    await expect
      .poll(() => kit.committedOffsets(groupId, topic), { timeout: 20_000 })
      .toContain(5n);
    expect(seen).toEqual([0n, 1n, 2n, 3n, 4n]);
    expect(consumer.status().handled).toBe(5);
  });

  it('commits the message a stopping consumer finishes when the group rebalanced meanwhile and the partition is still its own', async () => {
    const topic = await kit.createTopic('finish', 1);
    await publish(topic, ['acct-1'], 5);
    const groupId = kit.groupName('finish');
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let startedThird!: () => void;
    const third = new Promise<void>((resolve) => (startedThird = resolve));
    const consumer = start({
      brokers: BROKERS,
      groupId,
      topics: [topic],
      handler: async (_event, ctx) => {
        if (ctx.offset === 2n) {
          startedThird();
          await released;
        }
      },
    });
    await third;
    await expect.poll(() => kit.committedOffsets(groupId, topic)).toEqual([2n]);
    const stopping = consumer.stop();
    await expect.poll(() => consumer.status().state).toBe('stopping');

    // A second member comes and goes while the first one still works on offset 2: two new
    // generations, and the partition ends up with the stopping member again. The newcomer
    // handles nothing (it gives up when it is stopped), so it commits nothing.
    const newcomer = start({
      brokers: BROKERS,
      groupId,
      topics: [topic],
      handler: (_event, ctx) =>
        new Promise<void>((_, reject) =>
          ctx.signal.addEventListener('abort', () => reject(new Error('stopped'))),
        ),
    });
    await newcomer.ready;
    const newcomerGeneration = newcomer.status().generation ?? 0;
    await newcomer.stop();
    await expect
      .poll(() => consumer.status().generation ?? 0, { timeout: 20_000 })
      .toBeGreaterThan(newcomerGeneration);
    expect(consumer.status().assignments).toEqual([{ topic, partition: 0 }]);

    release();
    await stopping;
    expect(consumer.status().state).toBe('stopped');
    expect(await kit.committedOffsets(groupId, topic)).toEqual([3n]);
  });
});
