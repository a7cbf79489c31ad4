import type { Logger } from '../core/logger.js';
import type { Registry } from '../node/metricsRegistry.js';
import { z } from 'zod';
import type { RecordedEvent } from '../core/types.js';
import { type ResolvedConnection, resolveConnection } from './kafkaClient.js';
import type {
  KafkaConsumerNotice,
  KafkaConsumerOptions,
  KafkaHandlerContext,
} from './kafkaConsumerTypes.js';
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
  topicName,
} from './kafkaOptionsSchema.js';
import type { TopicSettings } from './kafkaTopics.js';

/** The defaults of {@link KafkaConsumerOptions}, as documented there. */
export const CONSUMER_DEFAULTS = {
  maxAttempts: 5,
  initialDelayMs: 100,
  maxDelayMs: 5000,
  sessionTimeoutMs: 10_000,
  heartbeatIntervalMs: 1000,
  rebalanceTimeoutMs: 30_000,
  commitIntervalMs: 100,
  maxQueued: 1000,
  shutdownTimeoutMs: 30_000,
} as const;

const deadLetterTopic = z
  .unknown()
  .superRefine((value, ctx) => {
    if (value === false || typeof value === 'function') return;
    if (typeof value === 'string' && topicName().safeParse(value).success) return;
    ctx.addIssue({
      code: 'custom',
      message:
        typeof value === 'string'
          ? 'is not a Kafka topic name (1–249 characters of letters, digits, ".", "_" and "-")'
          : 'must be a topic name, a function (topic) => topic name, or false to stop instead',
    });
  })
  .optional();

const consumerSchema = z
  .strictObject({
    ...connectionShape,
    groupId: nonEmptyString('naming the consumer group'),
    topics: z.array(topicName()).min(1),
    handler: fn('(event, context) => Promise<void>'),
    eventTypes: z.array(z.string().min(1)).optional(),
    retry: z
      .strictObject({
        maxAttempts: positiveInt().optional(),
        initialDelayMs: millis().optional(),
        maxDelayMs: millis().optional(),
      })
      .optional(),
    deadLetterTopic,
    createTopics: createTopicsSchema,
    from: z.enum(['earliest', 'latest']).optional(),
    groupInstanceId: nonEmptyString('identifying this static member').optional(),
    sessionTimeoutMs: millis(1).optional(),
    heartbeatIntervalMs: millis(1).optional(),
    rebalanceTimeoutMs: millis(1).optional(),
    commitIntervalMs: millis().optional(),
    maxQueued: positiveInt().optional(),
    shutdownTimeoutMs: millis().optional(),
    onEvent: fn('(notice) => void').optional(),
    logger: loggerOption().optional(),
    metrics: registryOption().optional(),
  })
  .superRefine((o, ctx) => {
    const session = o.sessionTimeoutMs ?? CONSUMER_DEFAULTS.sessionTimeoutMs;
    const heartbeat = o.heartbeatIntervalMs ?? CONSUMER_DEFAULTS.heartbeatIntervalMs;
    if (heartbeat >= session) {
      ctx.addIssue({
        code: 'custom',
        path: ['heartbeatIntervalMs'],
        input: heartbeat,
        message: `must be less than sessionTimeoutMs (${session}); a third of it is usual`,
      });
    }
    // The client refuses a rebalance timeout below the session timeout at every join, which
    // would only show as a consumer restarting for ever.
    if (o.rebalanceTimeoutMs !== undefined && o.rebalanceTimeoutMs < session) {
      ctx.addIssue({
        code: 'custom',
        path: ['rebalanceTimeoutMs'],
        input: o.rebalanceTimeoutMs,
        message: `must be at least sessionTimeoutMs (${session}); leave it out to use the larger of ${CONSUMER_DEFAULTS.rebalanceTimeoutMs} and sessionTimeoutMs`,
      });
    }
  });

/** Keys from other clients or older versions, and the option that does it here. */
const MOVED: Readonly<Record<string, string>> = {
  maxAttempts: 'retry.maxAttempts',
  initialDelayMs: 'retry.initialDelayMs',
  maxDelayMs: 'retry.maxDelayMs',
  deadLetter: 'deadLetterTopic',
  dlq: 'deadLetterTopic',
  dlqTopic: 'deadLetterTopic',
  fromBeginning: "from: 'earliest'",
  topic: 'topics',
  group: 'groupId',
  autoCommit: 'commitIntervalMs',
  stopTimeoutMs: 'shutdownTimeoutMs',
};

/** {@link KafkaConsumerOptions} checked, with every default filled in. */
export interface ConsumerConfig {
  groupId: string;
  topics: string[];
  handler: (event: RecordedEvent, context: KafkaHandlerContext) => void | Promise<void>;
  /** Only these event types reach the handler; undefined: all. */
  eventTypes: ReadonlySet<string> | undefined;
  maxAttempts: number;
  backoff: { initialDelayMs: number; maxDelayMs: number };
  /** Dead-letter topic of a source topic; undefined: stop the consumer instead. */
  deadLetterTopicFor: ((topic: string) => string) | undefined;
  createTopics: TopicSettings | false;
  from: 'earliest' | 'latest';
  groupInstanceId: string | undefined;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  rebalanceTimeoutMs: number;
  commitIntervalMs: number;
  maxQueued: number;
  shutdownTimeoutMs: number;
  onEvent: ((notice: KafkaConsumerNotice) => void) | undefined;
  logger: Logger | undefined;
  metrics: Registry | undefined;
  connection: ResolvedConnection;
}

/**
 * Checks the options of `startKafkaConsumer` strictly (unknown keys, types, ranges) and fills
 * in the defaults.
 *
 * @throws ValidationError naming the option path, what is wrong and what is allowed.
 */
export function resolveConsumerOptions<E extends { type: string; data: unknown }>(
  options: KafkaConsumerOptions<E>,
): ConsumerConfig {
  const o = parseOptions(consumerSchema, options, MOVED);
  const dlq = o.deadLetterTopic as string | ((topic: string) => string) | false | undefined;
  return {
    groupId: o.groupId,
    topics: [...new Set(o.topics)],
    handler: o.handler as ConsumerConfig['handler'],
    eventTypes: o.eventTypes ? new Set(o.eventTypes) : undefined,
    maxAttempts: o.retry?.maxAttempts ?? CONSUMER_DEFAULTS.maxAttempts,
    backoff: {
      initialDelayMs: o.retry?.initialDelayMs ?? CONSUMER_DEFAULTS.initialDelayMs,
      maxDelayMs: o.retry?.maxDelayMs ?? CONSUMER_DEFAULTS.maxDelayMs,
    },
    deadLetterTopicFor:
      dlq === false
        ? undefined
        : typeof dlq === 'string'
          ? () => dlq
          : (dlq ?? ((t: string) => `${t}.dlq`)),
    createTopics: o.createTopics ?? {},
    from: o.from ?? 'earliest',
    groupInstanceId: o.groupInstanceId,
    sessionTimeoutMs: o.sessionTimeoutMs ?? CONSUMER_DEFAULTS.sessionTimeoutMs,
    heartbeatIntervalMs: o.heartbeatIntervalMs ?? CONSUMER_DEFAULTS.heartbeatIntervalMs,
    rebalanceTimeoutMs:
      o.rebalanceTimeoutMs ??
      Math.max(
        CONSUMER_DEFAULTS.rebalanceTimeoutMs,
        o.sessionTimeoutMs ?? CONSUMER_DEFAULTS.sessionTimeoutMs,
      ),
    commitIntervalMs: o.commitIntervalMs ?? CONSUMER_DEFAULTS.commitIntervalMs,
    maxQueued: o.maxQueued ?? CONSUMER_DEFAULTS.maxQueued,
    shutdownTimeoutMs: o.shutdownTimeoutMs ?? CONSUMER_DEFAULTS.shutdownTimeoutMs,
    onEvent: o.onEvent as ConsumerConfig['onEvent'],
    logger: o.logger,
    metrics: o.metrics,
    connection: resolveConnection(options, `eventloom-${o.groupId}`),
  };
}
