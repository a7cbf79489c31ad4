// The public types of `startKafkaPublisher`: settings, notices and status.
import type { Logger } from '../core/logger.js';
import type { Registry } from '../node/metricsRegistry.js';
import type { EventStore, RecordedEvent, SubscriptionStart } from '../core/types.js';
import type { KafkaConnection } from './kafkaClient.js';
import type { KafkaError } from './kafkaErrors.js';
import type { TopicSettings } from './kafkaTopics.js';

/** Compression of produced record batches (all built into `@platformatic/kafka`). */
export type KafkaCompression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

export interface KafkaPublisherSettings {
  /** The store to follow: the publisher is a durable subscription on it (the outbox). */
  store: EventStore;
  /** Durable subscription name; its checkpoint is the last position Kafka acknowledged. Default `'kafka-publisher'`. */
  name?: string;
  /** Where a publisher without a checkpoint starts. Default `'start'` (publish the whole log). */
  from?: SubscriptionStart;
  /** Topic of an event. Default `eventloom.<category>` ({@link defaultTopicFor}). */
  topicFor?: (event: RecordedEvent) => string;
  /**
   * Create missing topics (with these settings), or `false` to require them to exist (a
   * missing topic then stops publishing with an error naming it, retried until it exists).
   * Default `{}`: create with the broker's default partitions and replication factor.
   */
  createTopics?: TopicSettings | false;
  /** Most events per produce request. Default 2000. */
  batchSize?: number;
  /** Most bytes per produce request (kept under each topic's `max.message.bytes`). Default 1 000 000. */
  maxBatchBytes?: number;
  /** Default `'none'`, which every Kafka client can read; `'lz4'` cuts broker load for big backlogs. */
  compression?: KafkaCompression;
  /**
   * Run the Kafka client in a worker thread (one per process, shared by its publishers), so
   * that reading the store and building messages in this thread overlaps with encoding and
   * sending the previous request there. Default `true`; `false` runs the client in this
   * thread, which costs less on a machine with a single core and saves the hop between
   * threads (about 0.1 ms at the median, 1–3 ms at p99, at 1000 events/s). The thread loads
   * the client package when it starts (about 0.4 s on a small machine): the first events of
   * a process wait for that. Client settings that cannot be passed to a thread (functions,
   * such as a SASL token callback) always run in this thread.
   */
  producerThread?: boolean;
  /** Backoff between attempts while Kafka fails (retried forever, reported as notices). */
  retry?: { initialDelayMs?: number; maxDelayMs?: number };
  /**
   * How often the publisher looks for new events besides the store's own wake-ups (appends
   * by other processes; appends in this process wake it at once). Default 100 ms.
   */
  pollIntervalMs?: number;
  /** On stop, how long to keep publishing what was already read. Default 5000 ms. */
  stopTimeoutMs?: number;
  /** Everything observable: retries with the error, parked events, created topics, batches. */
  onEvent?: (notice: KafkaPublisherNotice) => void;
  /** Where the notices are logged (batches at debug, retries and parked events at warn). Default: nowhere. */
  logger?: Logger;
  /** The process's Prometheus registry: published, retried and parked events are counted there. */
  metrics?: Registry;
}

/**
 * Options of {@link startKafkaPublisher}: the settings plus where Kafka is (`brokers` or
 * full `client` settings).
 */
export type KafkaPublisherOptions = KafkaPublisherSettings & KafkaConnection;

export type KafkaPublisherNotice =
  | { kind: 'topic-created'; publisher: string; topic: string; partitions: number }
  | { kind: 'published'; publisher: string; count: number; position: number; ms: number }
  | { kind: 'caught-up'; publisher: string; position: number }
  | {
      kind: 'retry';
      publisher: string;
      attempt: number;
      delayMs: number;
      error: KafkaError;
    }
  | { kind: 'parked'; publisher: string; event: RecordedEvent; reason: string }
  | { kind: 'read-failed'; publisher: string; attempt: number; delayMs: number; error: unknown }
  | { kind: 'checkpoint-failed'; publisher: string; position: number; error: unknown }
  /** The producer thread could not start, or died: publishing goes on from this thread. */
  | { kind: 'producer-thread-failed'; publisher: string; error: unknown }
  | { kind: 'stopped'; publisher: string; position: number; error?: unknown };

export interface KafkaPublisherStatus {
  name: string;
  state: 'starting' | 'catching-up' | 'live' | 'retrying' | 'stopping' | 'stopped' | 'failed';
  /** Last global position Kafka acknowledged (or that was parked); 0 before any. */
  position: number;
  /** The store's head when last looked at. */
  headPosition: number;
  /** `headPosition - position`: events appended but not yet on Kafka. */
  lag: number;
  /** Last position stored as the durable checkpoint. */
  checkpoint: number;
  /** Events read from the store, waiting for Kafka. */
  buffered: number;
  /** Events Kafka acknowledged since start. */
  published: number;
  /** Events parked (see `store.checkpoints.listParked(name)`) since start. */
  parked: number;
  /** Failed produce attempts since start. */
  retries: number;
  lastError?: string;
  lastPublishedAt?: Date;
}

export interface KafkaPublisher {
  readonly name: string;
  status(): KafkaPublisherStatus;
  /** Events appended but not yet acknowledged by Kafka, measured now. */
  lag(): Promise<number>;
  /** Resolves once every event up to `position` is on Kafka (or parked). */
  waitFor(position: number, timeoutMs?: number): Promise<void>;
  /** Publishes what was already read (up to `stopTimeoutMs`), stores the checkpoint, closes the clients. */
  stop(): Promise<void>;
  /** Settles when the publisher stops; rejects if it stopped on an error (e.g. the store closed). */
  readonly done: Promise<void>;
}
