import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createCryptoShredder, ERASED } from '../../src/core/index.js';
import { fromKafkaMessage } from '../../src/kafka/kafkaMessage.js';
import { startKafkaPublisher } from '../../src/kafka/kafkaPublisher.js';
import { createSqliteEventStore } from '../../src/sqlite/index.js';
import { newKek, userPersonalData } from '../contract/cryptoShreddingContract.js';
import { serviceAvailable, uniqueName } from '../support/services.js';
import { BROKERS, KafkaTestKit } from './kafkaTestKit.js';

const available = await serviceAvailable('kafka');

describe.skipIf(!available)('Kafka publisher with personal data', () => {
  const kit = new KafkaTestKit();
  const dir = mkdtempSync(join(tmpdir(), 'eventloom-kafka-pd-'));
  afterAll(async () => {
    await kit.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes personal fields sealed; a consumer with the key store decrypts them, and reads the marker after forget', async () => {
    const kek = newKek();
    const store = createSqliteEventStore({
      path: join(dir, 'events.db'),
      personalData: { policy: userPersonalData, keyEncryptionKey: kek },
    });
    const topic = uniqueName('pd').replace(/_/g, '');
    kit.track(topic);
    const email = 'ada.topic.secret@example.com';
    await store.appendToStream('user-1', [
      { type: 'UserRegistered', data: { userId: '1', email, name: 'Ada Lovelace', plan: 'pro' } },
    ]);
    const publisher = startKafkaPublisher({
      store,
      brokers: BROKERS,
      name: uniqueName('pd_pub'),
      topicFor: () => topic,
      createTopics: { partitions: 1, replicationFactor: 1 },
      retry: { initialDelayMs: 50, maxDelayMs: 500 },
    });
    try {
      await publisher.waitFor(await store.headPosition());
      const messages = await kit.readTopic(topic);
      expect(messages).toHaveLength(1);
      expect(messages[0]!.value).not.toContain(email);
      expect(messages[0]!.value).not.toContain('Lovelace');

      // A consumer in the same trust domain: the same key store and key-encryption key.
      const consumer = createCryptoShredder({
        personalData: userPersonalData,
        keyStore: store.shredder.keyStore,
        keyEncryptionKey: kek,
      });
      const received = fromKafkaMessage(messages[0]!.value);
      expect((await consumer.decryptEvent(received)).data).toEqual({
        userId: '1',
        email,
        name: 'Ada Lovelace',
        plan: 'pro',
      });

      await store.forget('1');
      await publisher.waitFor(await store.headPosition());
      const after = await kit.readTopic(topic);
      expect(after.map((m) => m.headers['event-type'])).toEqual([
        'UserRegistered',
        'PersonalDataForgotten',
      ]);
      // What still sits in the topic reads erased: for a consumer that read on in order (the
      // forget event drops the key it cached), and for any fresh one.
      for (const m of after) await consumer.decryptEvent(fromKafkaMessage(m.value));
      const fresh = createCryptoShredder({
        personalData: userPersonalData,
        keyStore: store.shredder.keyStore,
        keyEncryptionKey: kek,
      });
      for (const c of [consumer, fresh]) {
        expect((await c.decryptEvent(fromKafkaMessage(after[0]!.value))).data).toMatchObject({
          email: ERASED,
          name: ERASED,
        });
      }
    } finally {
      await publisher.stop();
      await store.close();
    }
  });
});
