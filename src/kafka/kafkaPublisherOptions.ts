import type { Logger } from '../core/logger.js';
import type { Registry } from '../node/metricsRegistry.js';
import { z } from 'zod';
import type { EventStore, RecordedEvent, SubscriptionStart } from '../core/types.js';
import { type ResolvedConnection, resolveConnection } from './kafkaClient.js';
import { defaultTopicFor } from './kafkaMessage.js';
import {
  connectionShape,
  createTopicsSchema,
  fn,
  loggerOption,
  millis,
  nonEmptyString,
  parseOptions,
  positiveInt,
  registryOption,
} from './kafkaOptionsSchema.js';
import type {
  KafkaCompression,
  KafkaPublisherNotice,
  KafkaPublisherOptions,
} from './kafkaPublisherTypes.js';
import type { TopicSettings } from './kafkaTopics.js';

/** The defaults of {@link KafkaPublisherOptions}, as documented there. */
export const PUBLISHER_DEFAULTS = {
  name: 'kafka-publisher',
  batchSize: 2000,
  maxBatchBytes: 1_000_000,
  initialDelayMs: 100,
  maxDelayMs: 10_000,
  stopTimeoutMs: 5000,
  pollIntervalMs: 100,
} as const;

const COMPRESSIONS = [
  'none',
  'gzip',
  'snappy',
  'lz4',
  'zstd',
] as const satisfies readonly KafkaCompression[];

const store = z.custom<EventStore>((s) => {
  const candidate = s as Partial<EventStore> | null | undefined;
  return (
    typeof candidate?.subscribe === 'function' &&
    typeof candidate.readAll === 'function' &&
    typeof candidate.checkpoints?.save === 'function'
  );
}, 'must be an Eventloom EventStore');

const publisherSchema = z.strictObject({
  ...connectionShape,
  store,
  name: nonEmptyString('naming the publisher').optional(),
  from: z
    .union([z.enum(['start', 'end']), z.number().int().min(0)], {
      error: "must be 'start', 'end' or a position >= 0",
    })
    .optional(),
  topicFor: fn('(event) => topic name').optional(),
  createTopics: createTopicsSchema,
  batchSize: positiveInt().optional(),
  maxBatchBytes: positiveInt().optional(),
  compression: z.enum(COMPRESSIONS).optional(),
  producerThread: z.boolean({ error: 'must be true or false' }).optional(),
  retry: z
    .strictObject({ initialDelayMs: millis().optional(), maxDelayMs: millis().optional() })
    .optional(),
  pollIntervalMs: millis(1).optional(),
  stopTimeoutMs: millis().optional(),
  onEvent: fn('(notice) => void').optional(),
  logger: loggerOption().optional(),
  metrics: registryOption().optional(),
});

/** Keys from other clients, and the option that does it here. */
const MOVED: Readonly<Record<string, string>> = {
  topic: 'topicFor',
  topics: 'topicFor',
  fromBeginning: "from: 'start'",
  shutdownTimeoutMs: 'stopTimeoutMs',
  initialDelayMs: 'retry.initialDelayMs',
  maxDelayMs: 'retry.maxDelayMs',
};

/** {@link KafkaPublisherOptions} checked, with every default filled in. */
export interface PublisherConfig {
  store: EventStore;
  name: string;
  from: SubscriptionStart;
  topicFor: (event: RecordedEvent) => string;
  createTopics: TopicSettings | false;
  batchSize: number;
  maxBatchBytes: number;
  compression: KafkaCompression;
  producerThread: boolean;
  backoff: { initialDelayMs: number; maxDelayMs: number };
  pollIntervalMs: number;
  stopTimeoutMs: number;
  onEvent: ((notice: KafkaPublisherNotice) => void) | undefined;
  logger: Logger | undefined;
  metrics: Registry | undefined;
  connection: ResolvedConnection;
}

/**
 * Checks the options of `startKafkaPublisher` strictly (unknown keys, types, ranges) and fills
 * in the defaults.
 *
 * @throws ValidationError naming the option path, what is wrong and what is allowed.
 */
export function resolvePublisherOptions(options: KafkaPublisherOptions): PublisherConfig {
  const o = parseOptions(publisherSchema, options, MOVED);
  const name = o.name ?? PUBLISHER_DEFAULTS.name;
  return {
    store: o.store,
    name,
    from: o.from ?? 'start',
    topicFor: (o.topicFor as PublisherConfig['topicFor'] | undefined) ?? defaultTopicFor,
    createTopics: o.createTopics ?? {},
    batchSize: o.batchSize ?? PUBLISHER_DEFAULTS.batchSize,
    maxBatchBytes: o.maxBatchBytes ?? PUBLISHER_DEFAULTS.maxBatchBytes,
    compression: o.compression ?? 'none',
    producerThread: o.producerThread ?? true,
    backoff: {
      initialDelayMs: o.retry?.initialDelayMs ?? PUBLISHER_DEFAULTS.initialDelayMs,
      maxDelayMs: o.retry?.maxDelayMs ?? PUBLISHER_DEFAULTS.maxDelayMs,
    },
    pollIntervalMs: o.pollIntervalMs ?? PUBLISHER_DEFAULTS.pollIntervalMs,
    stopTimeoutMs: o.stopTimeoutMs ?? PUBLISHER_DEFAULTS.stopTimeoutMs,
    onEvent: o.onEvent as PublisherConfig['onEvent'],
    logger: o.logger,
    metrics: o.metrics,
    connection: resolveConnection(options, `eventloom-${name}`),
  };
}
