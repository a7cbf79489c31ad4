import { lazyAdmin, resolveConnection, type KafkaConnection } from './kafkaClient.js';
import { EventProducer } from './kafkaEventProducer.js';
import type { KafkaEventMessage } from './kafkaMessage.js';
import { KafkaSendQueue } from './kafkaSendQueue.js';
import { createTopicRegistry, type TopicSettings } from './kafkaTopics.js';

/** Options of {@link createKafkaMessageSender}: `brokers` or `client`, and how topics are made. */
export type KafkaMessageSenderOptions = KafkaConnection & {
  /** Default `eventloom-sender`. */
  clientId?: string;
  /** How missing topics are created, or `false` to require them. Default `{}` (broker defaults). */
  createTopics?: TopicSettings | false;
};

export interface KafkaMessageSender {
  /** Creates the topics that do not exist yet (consumers of a topic nobody wrote to yet need it). */
  ensureTopics(topics: readonly string[]): Promise<void>;
  /**
   * Sends and waits for every in-sync replica (`acks=all`, idempotent producer). Concurrent
   * calls are safe: one request is in flight at a time, and calls made meanwhile share the next.
   */
  send(messages: readonly KafkaEventMessage[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * A producer for messages made by hand (e.g. commands to another process), with the
 * publisher's guarantees: idempotent, `acks=all`, the Java partitioner (same key, same
 * partition). A failed send throws; the next one starts a fresh producer.
 *
 * @example
 * const sender = createKafkaMessageSender({ brokers: '127.0.0.1:9092' });
 * await sender.send([toKafkaMessage(event, 'eventloom.commands')]);
 */
export function createKafkaMessageSender(options: KafkaMessageSenderOptions): KafkaMessageSender {
  const connection = resolveConnection(options, options.clientId ?? 'eventloom-sender');
  const producer = new EventProducer(connection, 'none');
  const admin = lazyAdmin(connection);
  const topics = createTopicRegistry({
    admin: () => admin.get(),
    brokers: connection.brokers,
    create: options.createTopics ?? {},
  });
  const ensureTopics = async (names: readonly string[]): Promise<void> => {
    for (const name of new Set(names)) await topics.ensure(name);
  };
  const queue = new KafkaSendQueue<KafkaEventMessage>(
    async (messages) => {
      try {
        const p = await producer.get();
        await p.send({ messages: messages.map((m) => ({ ...m })) });
      } catch (error) {
        // Its sequence numbers may be off after a failed send: start afresh next time.
        await producer.close();
        throw error;
      }
    },
    { merge: true },
  );
  return {
    ensureTopics,
    async send(messages) {
      await ensureTopics(messages.map((m) => m.topic));
      await queue.push(messages);
    },
    async close() {
      await producer.close();
      await admin.close();
    },
  };
}
