import type { Message, Producer } from '@platformatic/kafka';
import { type Backoff, backoffDelay, sleep } from '../core/async.js';
import { ValidationError } from '../core/errors.js';
import { type LazyAdmin, loadKafka, type ResolvedConnection } from './kafkaClient.js';
import { type KafkaError, translateKafkaError } from './kafkaErrors.js';
import { isValidTopicName } from './kafkaMessage.js';
import { KafkaSendQueue } from './kafkaSendQueue.js';
import { createTopicRegistry, type TopicSettings } from './kafkaTopics.js';

/** Header names of a dead-letter message (the original headers are kept beside them). */
export const DEAD_LETTER_HEADERS = {
  originalTopic: 'dlq-original-topic',
  originalPartition: 'dlq-original-partition',
  originalOffset: 'dlq-original-offset',
  error: 'dlq-error',
  attempts: 'dlq-attempts',
  groupId: 'dlq-group-id',
  failedAt: 'dlq-failed-at',
} as const;

/** A consumed message as the consumer reads it: string key and headers, raw value. */
export type InMessage = Message<string, Buffer, string, string>;

export interface DeadLetterRecord {
  topic: string;
  key: string | undefined;
  value: Buffer;
  headers: Record<string, string>;
}

/** Longest reason kept in the `dlq-error` header. */
export const MAX_ERROR_HEADER = 4000;

/** The record that parks `message` on `topic`: same key and value, original headers plus why. */
export function deadLetterRecord(
  message: Pick<InMessage, 'topic' | 'partition' | 'offset' | 'key' | 'value' | 'headers'>,
  failure: { topic: string; reason: string; attempts: number; groupId: string; failedAt: Date },
): DeadLetterRecord {
  return {
    topic: failure.topic,
    key: message.key,
    value: message.value,
    headers: {
      ...Object.fromEntries(message.headers),
      [DEAD_LETTER_HEADERS.originalTopic]: message.topic,
      [DEAD_LETTER_HEADERS.originalPartition]: String(message.partition),
      [DEAD_LETTER_HEADERS.originalOffset]: String(message.offset),
      [DEAD_LETTER_HEADERS.error]: failure.reason.slice(0, MAX_ERROR_HEADER),
      [DEAD_LETTER_HEADERS.attempts]: String(failure.attempts),
      [DEAD_LETTER_HEADERS.groupId]: failure.groupId,
      [DEAD_LETTER_HEADERS.failedAt]: failure.failedAt.toISOString(),
    },
  };
}

type DeadLetterProducer = Producer<string | undefined, Buffer, string, string>;

export interface DeadLetterWriterSettings {
  groupId: string;
  connection: ResolvedConnection;
  admin: LazyAdmin;
  createTopics: TopicSettings | false;
  backoff: Backoff;
}

/** A failed write, about to be tried again after `delayMs`. */
export type DeadLetterRetry = (error: KafkaError, failures: number, delayMs: number) => void;

/**
 * Writes failed messages to their dead-letter topic, creating it when allowed, and retries
 * (with a fresh producer) until the broker acknowledges or the partition is given up.
 */
export class DeadLetterWriter {
  readonly #settings: DeadLetterWriterSettings;
  readonly #topics;
  #producer: DeadLetterProducer | undefined;
  // Partitions dead-letter concurrently: one record in flight at a time on the idempotent producer.
  readonly #queue = new KafkaSendQueue<DeadLetterRecord>(
    async (records) => {
      try {
        const producer = await this.#getProducer();
        await producer.send({ messages: records });
      } catch (error) {
        await this.close();
        throw error;
      }
    },
    { merge: false },
  );

  constructor(settings: DeadLetterWriterSettings) {
    this.#settings = settings;
    this.#topics = createTopicRegistry({
      admin: () => settings.admin.get(),
      brokers: settings.connection.brokers,
      create: settings.createTopics,
    });
  }

  /** Resolves true once the record is acknowledged, false when `signal` aborted first. */
  async write(
    m: InMessage,
    topic: string,
    failure: { reason: string; attempts: number; signal: AbortSignal },
    onRetry: DeadLetterRetry,
  ): Promise<boolean> {
    const { reason, attempts, signal } = failure;
    for (let failures = 0; ;) {
      try {
        if (!isValidTopicName(topic)) {
          throw new ValidationError(
            'options.deadLetterTopic',
            `${JSON.stringify(topic)} is not a Kafka topic name`,
          );
        }
        await this.#topics.ensure(topic);
        const record = deadLetterRecord(m, {
          topic,
          reason,
          attempts,
          groupId: this.#settings.groupId,
          failedAt: new Date(),
        });
        await this.#queue.push([record]);
        return true;
      } catch (error) {
        const err = translateKafkaError(error, {
          brokers: this.#settings.connection.brokers,
          action: `writing ${m.topic}/${m.partition}@${m.offset} to dead-letter topic '${topic}'`,
          topic,
          fallback: 'PRODUCE_FAILED',
        });
        const delayMs = backoffDelay(++failures, this.#settings.backoff);
        onRetry(err, failures, delayMs);
        if (signal.aborted) return false;
        await sleep(delayMs, signal);
        if (signal.aborted) return false;
      }
    }
  }

  /** Closes the producer; the next write opens a new one. */
  async close(): Promise<void> {
    const old = this.#producer;
    this.#producer = undefined;
    await old?.close().catch(() => undefined);
  }

  async #getProducer(): Promise<DeadLetterProducer> {
    if (this.#producer) return this.#producer;
    const { connection } = this.#settings;
    const kafka = await loadKafka();
    this.#producer = new kafka.Producer<string | undefined, Buffer, string, string>({
      ...connection.base,
      clientId: `${connection.clientId}-dlq`,
      idempotent: true,
      acks: kafka.ProduceAcks.ALL,
      partitioner: kafka.compatibilityPartitioner,
      serializers: {
        key: (k?: string) => (k === undefined ? undefined : Buffer.from(k)),
        value: (v?: Buffer) => v,
        headerKey: kafka.stringSerializer,
        headerValue: kafka.stringSerializer,
      },
    });
    return this.#producer;
  }
}
