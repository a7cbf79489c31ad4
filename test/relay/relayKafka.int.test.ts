/**
 * The kafka step against the real broker: one change the broker can never take must not hold
 * up, fail or duplicate the changes it was batched with.
 */
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listDeadLetters } from '../../src/relay/relayDeadLetters.js';
import { parseRelayConfig } from '../../src/relay/parseRelayConfig.js';
import { startRelay } from '../../src/relay/relayRunner.js';
import { KafkaTestKit } from '../kafka/kafkaTestKit.js';
import { MONGODB_URL, serviceAvailable, uniqueName } from '../support/services.js';
import { itemsSource, removeRelayState, silentLog } from './relayTestKit.js';

const available = (await serviceAvailable('mongodb')) && (await serviceAvailable('kafka'));

describe.skipIf(!available)('relay kafka step (real broker)', () => {
  let client: MongoClient;
  let kit: KafkaTestKit;
  const relays: string[] = [];

  beforeAll(async () => {
    client = new MongoClient(MONGODB_URL, { serverSelectionTimeoutMS: 5000 });
    await client.connect();
    kit = new KafkaTestKit();
  });
  afterAll(async () => {
    for (const name of relays) await client.db(name).dropDatabase();
    await removeRelayState(client, relays);
    await client?.close();
    await kit?.cleanup();
  });

  /**
   * Writes 40 small documents and one of 1.5 MB in one insertMany through a relay producing
   * to `topic`; returns what the topic holds (document ids) and the relay's dead letters.
   */
  async function burst(topic: string, kafka: Record<string, unknown> = {}) {
    const name = uniqueName('relay_kafka_big');
    relays.push(name);
    const config = parseRelayConfig({
      name,
      source: itemsSource(name),
      pipeline: [
        {
          kafka: {
            topic,
            createTopics: false,
            // Long enough that the whole insertMany shares one produce request.
            lingerMs: 200,
            retry: { maxAttempts: 5, initialDelayMs: 50, maxDelayMs: 200 },
            ...kafka,
          },
        },
      ],
      checkpoints: { intervalMs: 200 },
      server: false,
    });
    const relay = await startRelay(config, { log: silentLog });
    let failedAttempts: number;
    try {
      const checkpoints = client.db('eventloom_relay').collection<{ _id: string }>('checkpoints');
      await expect
        .poll(() => checkpoints.findOne({ _id: `${name}/coll:${name}.items` }), {
          timeout: 20_000,
        })
        .not.toBeNull();
      const small = Array.from({ length: 40 }, (_, i) => ({ _id: i + 1, text: `small ${i + 1}` }));
      const big = { _id: 1000, text: 'x'.repeat(1_500_000) };
      await client
        .db(name)
        .collection<{ _id: number; text: string }>('items')
        .insertMany([...small.slice(0, 20), big, ...small.slice(20)]);
      await expect.poll(() => relay.metrics.processed, { timeout: 30_000 }).toBe(40);
      await expect.poll(() => relay.metrics.deadLettered, { timeout: 30_000 }).toBe(1);
      failedAttempts = relay.metrics.failedAttempts;
    } finally {
      await relay.stop();
    }
    const ids = (await kit.readTopic(topic))
      .map((m) => (JSON.parse(m.value ?? '{}') as { documentKey: { _id: number } }).documentKey._id)
      .sort((a, b) => a - b);
    return { ids, deadLetters: await listDeadLetters(config), failedAttempts };
  }

  const smallIds = Array.from({ length: 40 }, (_, i) => i + 1);

  it('an oversized message is dead-lettered at once with the reason; the small ones batched with it arrive exactly once', async () => {
    // The broker's default max.message.bytes (about 1 MiB), which the relay reads.
    const topic = await kit.createTopic('relay_big', 3);
    const { ids, deadLetters, failedAttempts } = await burst(topic);
    expect(ids).toEqual(smallIds);
    // Only the big change ever failed, and only once: nothing was retried.
    expect(failedAttempts).toBe(1);
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0]?.message.documentKey).toEqual({ _id: 1000 });
    expect(deadLetters[0]?.attempts).toBe(1);
    expect(deadLetters[0]?.step).toBe('pipeline[0].kafka');
    expect(deadLetters[0]?.reason).toMatch(/too large/i);
    expect(deadLetters[0]?.reason).toMatch(/max\.message\.bytes = 1048588/);
  }, 90_000);

  it('a batch the broker refuses as too large is split: only the culprit is dead-lettered, at once', async () => {
    // The relay believes the topic takes 10 MB, so the broker is the one that says no.
    const topic = await kit.createTopic('relay_big_broker', 1);
    const { ids, deadLetters, failedAttempts } = await burst(topic, {
      maxMessageBytes: 10_000_000,
    });
    expect(ids).toEqual(smallIds);
    expect(failedAttempts).toBe(1);
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0]?.message.documentKey).toEqual({ _id: 1000 });
    expect(deadLetters[0]?.attempts).toBe(1);
    expect(deadLetters[0]?.reason).toMatch(/MESSAGE_TOO_LARGE|RECORD_LIST_TOO_LARGE/);
  }, 90_000);
});
