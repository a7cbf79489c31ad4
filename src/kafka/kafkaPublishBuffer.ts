import { errorMessage } from '../core/async.js';
import type { RecordedEvent } from '../core/types.js';
import {
  fromKafkaMessage,
  isValidTopicName,
  type KafkaRecord,
  messageBytes,
  toKafkaRecord,
} from './kafkaMessage.js';
import type { KafkaCompression } from './kafkaPublisherTypes.js';
import type { TopicInfo, TopicRegistry } from './kafkaTopics.js';

/** An event read from the store, waiting for Kafka. */
export interface Entry {
  position: number;
  /**
   * Kept only when no message could be built; otherwise the message value holds the event.
   * (Thousands of entries wait here: retaining less keeps garbage collection cheap.)
   */
  event: RecordedEvent | undefined;
  message: KafkaRecord | undefined;
  bytes: number;
  /** Why this event cannot be published: it is parked when it reaches the head. */
  park: string | undefined;
}

/** The event of an entry, rebuilt from its message when only that was kept. */
export const entryEvent = (entry: Entry): RecordedEvent =>
  entry.event ?? fromKafkaMessage((entry.message as KafkaRecord).value);

/** A FIFO with O(1) shift, since the buffer holds thousands of entries. */
class Queue<T> {
  #items: T[] = [];
  #first = 0;
  get size(): number {
    return this.#items.length - this.#first;
  }
  push(item: T): void {
    this.#items.push(item);
  }
  at(i: number): T | undefined {
    return this.#items[this.#first + i];
  }
  drop(n: number): void {
    this.#first += n;
    if (this.#first > 4096 && this.#first * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#first);
      this.#first = 0;
    }
  }
}

/** Room kept free in a produce request for the record batch and request headers. */
export const BATCH_OVERHEAD = 4096;

export interface PublishBufferSettings {
  topicFor: (event: RecordedEvent) => string;
  /** Most bytes per produce request. */
  maxBatchBytes: number;
  compression: KafkaCompression;
}

/**
 * The events read from the store and not yet acknowledged by Kafka, as Kafka messages, in
 * log order; cut into produce requests by count, bytes and each topic's `max.message.bytes`.
 * An event that cannot be published carries the reason and is parked when it is first.
 */
export class PublishBuffer {
  readonly #queue = new Queue<Entry>();
  readonly #settings: PublishBufferSettings;
  #lastValidTopic: string | undefined;

  constructor(settings: PublishBufferSettings) {
    this.#settings = settings;
  }

  get size(): number {
    return this.#queue.size;
  }

  /** The entry `i` places after the first (0: the first), if there is one. */
  at(i: number): Entry | undefined {
    return this.#queue.at(i);
  }

  /** Queues the event as a Kafka message, or with the reason none can be built. */
  add(event: RecordedEvent): Entry {
    let park: string | undefined;
    let message: KafkaRecord | undefined;
    try {
      // Built before `topicFor` sees the event: the value copies the stored JSON text, which
      // must not miss a change made in place (see storedJsonOf).
      const record = toKafkaRecord(event, '');
      const topic = this.#settings.topicFor(event);
      if (topic !== this.#lastValidTopic && !isValidTopicName(topic)) {
        park = `topicFor returned ${JSON.stringify(topic)}, which is not a Kafka topic name (1-249 characters of A-Z a-z 0-9 . _ -)`;
      } else {
        this.#lastValidTopic = topic;
        record.topic = topic;
        message = record;
      }
    } catch (error) {
      park = `could not build the Kafka message: ${errorMessage(error)}`;
    }
    const entry: Entry = {
      position: event.position,
      event: message ? undefined : event,
      message,
      bytes: message ? messageBytes(message) : 0,
      park,
    };
    this.#queue.push(entry);
    return entry;
  }

  /** Drops the first `count` entries: published or parked. */
  drop(count: number): void {
    this.#queue.drop(count);
  }

  /**
   * The next produce request: the entries from `offset` on (after those of requests already
   * sent), cut by count, bytes and topic limits. Empty when its first entry is to be parked —
   * marked so here when it alone is over its topic's limit.
   */
  async nextBatch(
    limit: number,
    topics: Pick<TopicRegistry, 'known' | 'ensure'>,
    offset = 0,
  ): Promise<Entry[]> {
    const { maxBatchBytes, compression } = this.#settings;
    const batch: Entry[] = [];
    const infos = new Map<string, TopicInfo>();
    let bytes = 0;
    let budget = maxBatchBytes;
    for (let i = offset; i < this.#queue.size && batch.length < limit; i++) {
      const entry = this.#queue.at(i) as Entry;
      if (entry.park !== undefined || entry.message === undefined) break;
      const topic = entry.message.topic;
      let info = infos.get(topic);
      if (!info) {
        info = topics.known(topic) ?? (await topics.ensure(topic));
        infos.set(topic, info);
        budget = Math.min(budget, info.maxMessageBytes - BATCH_OVERHEAD);
      }
      // Uncompressed size is what the broker checks unless compressed; then let it decide.
      if (compression === 'none' && entry.bytes > info.maxMessageBytes - 512) {
        if (batch.length === 0) {
          entry.park = `event is ${entry.bytes} bytes as a Kafka message; topic '${topic}' accepts at most ${info.maxMessageBytes} (max.message.bytes). Raise the topic's max.message.bytes or store large payloads elsewhere, then republish the parked event`;
        }
        break;
      }
      if (batch.length > 0 && bytes + entry.bytes > budget) break;
      batch.push(entry);
      bytes += entry.bytes;
    }
    return batch;
  }
}
