// The sender's idempotent producer under concurrent calls, against the real broker: a workflow
// consumer forwards commands from several partitions at once through one sender.
import { afterAll, describe, expect, it } from 'vitest';
import { createKafkaMessageSender } from '../../src/kafka/kafkaMessageSender.js';
import { serviceAvailable } from '../support/services.js';
import { BROKERS, KafkaTestKit } from './kafkaTestKit.js';

const available = await serviceAvailable('kafka');

describe.skipIf(!available)('Kafka message sender', () => {
  const kit = new KafkaTestKit();
  afterAll(() => kit.cleanup());

  it.each([1, 3])(
    'writes every message of many concurrent sends exactly once (%i partition(s))',
    async (partitions) => {
      const topic = await kit.createTopic('sender', partitions);
      const sender = createKafkaMessageSender({ brokers: BROKERS });
      try {
        // Connected and holding a producer id, so the calls below really overlap on the wire.
        await sender.send([{ topic, key: 'warm', value: 'warm', headers: {} }]);
        const sent = Array.from({ length: 60 }, (_, i) => `m${i}`);
        await Promise.all(
          sent.map((value, i) =>
            sender.send([{ topic, key: `stream-${i % 7}`, value, headers: { n: String(i) } }]),
          ),
        );
        const read = await kit.readTopic(topic);
        const values = read.map((m) => m.value).filter((v) => v !== 'warm');
        // Before one request at a time, same-partition sends shared sequence numbers and the
        // broker acknowledged the later ones as duplicates without writing them.
        expect(values.toSorted()).toEqual(sent.toSorted());
        // Per key, in call order (each key's sends were made in order of i).
        for (let k = 0; k < 7; k++) {
          const ofKey = read.filter((m) => m.key === `stream-${k}`).map((m) => Number(m.headers.n));
          expect(ofKey).toEqual(ofKey.toSorted((a, b) => a - b));
        }
      } finally {
        await sender.close();
      }
    },
  );
});
