// The public types of `startKafkaConsumer`: settings, handler context, notices and status.
import type { Logger } from '../core/logger.js';
import type { Registry } from '../node/metricsRegistry.js';
import type { Recorded } from '../core/types.js';
import type { KafkaConnection } from './kafkaClient.js';
import type { KafkaError } from './kafkaErrors.js';
import type { TopicSettings } from './kafkaTopics.js';

export interface KafkaHandlerContext {
  topic: string;
  partition: number;
  offset: bigint;
  /** The message key: the stream id for events from the publisher. */
  key: string | undefined;
  headers: Readonly<Record<string, string>>;
  /** 1 on the first try of this message in this process, then 2, 3, … */
  attempt: number;
  groupId: string;
  /** Aborted when the partition is revoked or the consumer stops: a long handler may give up early. */
  signal: AbortSignal;
}

/** A consumer handler: gets the event parsed back from the message, typed by `E`. */
export type KafkaEventHandler<
  E extends { type: string; data: unknown } = { type: string; data: unknown },
> = (event: Recorded<E>, context: KafkaHandlerContext) => void | Promise<void>;

export interface KafkaConsumerRetry {
  /** Tries per message before it goes to the dead-letter topic. Default 5. */
  maxAttempts?: number;
  /** Default 100 ms. */
  initialDelayMs?: number;
  /** Default 5000 ms. */
  maxDelayMs?: number;
}

export interface KafkaConsumerSettings<E extends { type: string; data: unknown }> {
  /** Consumer group: each group gets every event once (at least), members share partitions. */
  groupId: string;
  topics: readonly string[];
  handler: KafkaEventHandler<E>;
  /** Only these event types reach the handler; others are committed without it. */
  eventTypes?: readonly E['type'][];
  retry?: KafkaConsumerRetry;
  /**
   * Where a message goes after `retry.maxAttempts` failures (or at once when it is not an
   * Eventloom event): a topic, a function of the source topic, or `false` to stop the
   * consumer instead. Default `<topic>.dlq`.
   */
  deadLetterTopic?: string | ((topic: string) => string) | false;
  /** How missing dead-letter topics are created, or `false` to require them. Default `{}` (broker defaults). */
  createTopics?: TopicSettings | false;
  /** Where a group without committed offsets starts. Default `'earliest'`. */
  from?: 'earliest' | 'latest';
  /** Static membership: a restarted member with the same id takes its partitions back without a rebalance. */
  groupInstanceId?: string;
  /** Default 10 000 ms (the broker allows 6 000–300 000 by default). */
  sessionTimeoutMs?: number;
  /** Default 1000 ms. */
  heartbeatIntervalMs?: number;
  /** Default 30 000 ms, or `sessionTimeoutMs` when that is longer; at least `sessionTimeoutMs`. */
  rebalanceTimeoutMs?: number;
  /** Offsets of handled messages are committed at most this often. Default 100 ms. */
  commitIntervalMs?: number;
  /** Messages fetched ahead per consumer. Default 1000. */
  maxQueued?: number;
  /** On stop, how long to wait for handlers in flight. Default 30 000 ms. */
  shutdownTimeoutMs?: number;
  onEvent?: (notice: KafkaConsumerNotice) => void;
  /** Where the notices are logged (commits at debug, retries and dead letters at warn). Default: nowhere. */
  logger?: Logger;
  /**
   * The process's Prometheus registry: retries, dead letters, errors and messages with a
   * malformed `traceparent` header are counted there.
   */
  metrics?: Registry;
}

/** Options of {@link startKafkaConsumer}: the settings plus `brokers` or `client`. */
export type KafkaConsumerOptions<
  E extends { type: string; data: unknown } = { type: string; data: unknown },
> = KafkaConsumerSettings<E> & KafkaConnection;

export interface TopicPartition {
  topic: string;
  partition: number;
}

export type KafkaConsumerNotice =
  | { kind: 'assigned'; groupId: string; generation: number; partitions: TopicPartition[] }
  | {
      kind: 'retry';
      groupId: string;
      topic: string;
      partition: number;
      offset: bigint;
      attempt: number;
      delayMs: number;
      error: unknown;
    }
  | {
      kind: 'dead-lettered';
      groupId: string;
      topic: string;
      partition: number;
      offset: bigint;
      deadLetterTopic: string;
      reason: string;
      attempts: number;
    }
  | {
      /** The message's `traceparent` header is not W3C: it was handled in a new trace. */
      kind: 'malformed-traceparent';
      groupId: string;
      topic: string;
      partition: number;
      offset: bigint;
    }
  | { kind: 'committed'; groupId: string; offsets: (TopicPartition & { offset: bigint })[] }
  | { kind: 'commit-failed'; groupId: string; error: KafkaError }
  | { kind: 'error'; groupId: string; error: KafkaError; delayMs: number }
  | { kind: 'stopped'; groupId: string; error?: unknown };

export interface KafkaConsumerStatus {
  groupId: string;
  state: 'starting' | 'running' | 'restarting' | 'stopping' | 'stopped' | 'failed';
  memberId?: string;
  generation?: number;
  assignments: TopicPartition[];
  /** Messages whose handler succeeded (or that were filtered out) since start. */
  handled: number;
  retries: number;
  deadLettered: number;
  commits: number;
  /** Messages fetched and waiting for their partition's handler. */
  queued: number;
  lastError?: string;
}

export interface KafkaConsumer {
  readonly groupId: string;
  status(): KafkaConsumerStatus;
  /** Resolves when the consumer first got its partitions. */
  readonly ready: Promise<void>;
  /** Finishes the handlers in flight, commits, leaves the group and closes the clients. */
  stop(): Promise<void>;
  /** Settles when the consumer stops; rejects if it stopped on an error. */
  readonly done: Promise<void>;
}
