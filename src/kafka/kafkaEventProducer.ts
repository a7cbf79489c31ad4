import type { Producer } from '@platformatic/kafka';
import { loadKafka, type ResolvedConnection } from './kafkaClient.js';
import type { KafkaRecord } from './kafkaMessage.js';
import type { KafkaCompression } from './kafkaPublisherTypes.js';
import { cachedKeySerializer, headerNameBytes } from './kafkaSerializers.js';

/** String keys and headers; values as strings or already encoded (see KafkaRecord). */
type RecordProducer = Producer<string, Buffer | string, string, string>;

/**
 * The publisher's idempotent producer (`acks=all`), made on first use. After a failed send
 * its sequence numbers may be off: `close()` it and the next `get()` starts fresh.
 */
export class EventProducer {
  readonly #connection: ResolvedConnection;
  readonly #compression: KafkaCompression;
  #producer: RecordProducer | undefined;
  /** One request at a time: see KafkaSendQueue on why an idempotent producer needs that. */
  readonly pipeline = 1;

  constructor(connection: ResolvedConnection, compression: KafkaCompression) {
    this.#connection = connection;
    this.#compression = compression;
  }

  async get(): Promise<RecordProducer> {
    if (this.#producer) return this.#producer;
    const kafka = await loadKafka();
    this.#producer = new kafka.Producer({
      ...this.#connection.base,
      clientId: this.#connection.clientId,
      idempotent: true,
      acks: kafka.ProduceAcks.ALL,
      compression: this.#compression,
      // Java-compatible murmur2: a stream lands on the same partition as with Java or kafkajs.
      partitioner: kafka.compatibilityPartitioner,
      serializers: {
        ...kafka.stringSerializers,
        key: cachedKeySerializer(),
        value: (value: Buffer | string | undefined) =>
          typeof value === 'string' ? Buffer.from(value, 'utf8') : value,
        headerKey: headerNameBytes,
      },
    });
    return this.#producer;
  }

  /** One produce request of the publisher's messages (see RecordSender). */
  async send(records: readonly KafkaRecord[]): Promise<void> {
    const producer = await this.get();
    await producer.send({ messages: [...records] });
  }

  /**
   * Connects and gets the producer id ahead of the first send, while the publisher is still
   * reading its first events. A failure here is left to that send to retry and report.
   */
  async warm(): Promise<void> {
    const producer = await this.get();
    await producer.initIdempotentProducer({});
  }

  async close(): Promise<void> {
    const old = this.#producer;
    this.#producer = undefined;
    await old?.close().catch(() => undefined);
  }

  dispose(): Promise<void> {
    return this.close();
  }
}
