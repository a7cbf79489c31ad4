import { type ErrorCode, EventloomError, type EventloomErrorOptions } from '../core/errors.js';

const KAFKA_BRAND = Symbol.for('eventloom.kafka-error');

/** What went wrong talking to Kafka; stable, for code and dashboards. */
export type KafkaErrorReason =
  | 'BROKER_UNREACHABLE'
  | 'TOPIC_MISSING'
  | 'INVALID_TOPIC'
  | 'MESSAGE_TOO_LARGE'
  | 'PRODUCE_FAILED'
  | 'CONSUME_FAILED'
  | 'COMMIT_FAILED'
  | 'CLIENT_MISSING'
  /** The broker refused an option's value (e.g. `sessionTimeoutMs` outside its limits). */
  | 'OPTION_REJECTED';

/**
 * Each reason's Eventloom error code and whether trying again unchanged may help. A table,
 * so retry decisions live in one place.
 */
const REASONS: Record<KafkaErrorReason, { code: ErrorCode; retryable: boolean }> = {
  BROKER_UNREACHABLE: { code: 'STORE_UNAVAILABLE', retryable: true },
  // Retried too: an operator may create the topic while the publisher waits.
  TOPIC_MISSING: { code: 'CONFIGURATION', retryable: true },
  INVALID_TOPIC: { code: 'VALIDATION', retryable: false },
  MESSAGE_TOO_LARGE: { code: 'VALIDATION', retryable: false },
  PRODUCE_FAILED: { code: 'STORE_UNAVAILABLE', retryable: true },
  CONSUME_FAILED: { code: 'STORE_UNAVAILABLE', retryable: true },
  COMMIT_FAILED: { code: 'STORE_UNAVAILABLE', retryable: true },
  CLIENT_MISSING: { code: 'CONFIGURATION', retryable: false },
  // The same request gets the same answer: the loops stop and say which option to change.
  OPTION_REJECTED: { code: 'CONFIGURATION', retryable: false },
};

/** Broker errors that refuse an option's value, and what to change. */
const REJECTED_OPTIONS: Readonly<Record<string, string>> = {
  INVALID_SESSION_TIMEOUT:
    "set sessionTimeoutMs within the broker's group.min.session.timeout.ms and group.max.session.timeout.ms (6000 and 1800000 ms by default), or change those broker settings",
  INVALID_GROUP_ID: 'set groupId to a name the broker accepts',
  INVALID_REPLICATION_FACTOR:
    'set createTopics.replicationFactor to at most the number of brokers, or create the topic yourself',
  INVALID_PARTITIONS: 'set createTopics.partitions to a whole number >= 1',
  INVALID_CONFIG: 'fix createTopics.configs: the broker refused a topic setting',
  POLICY_VIOLATION: "fix createTopics: the broker's topic creation policy refused it",
};

/**
 * An error talking to Kafka, translated from the client's at the adapter boundary. `reason`
 * says what happened, `retryable` whether the loops try again; `cause` is the client's error.
 *
 * @example
 * publisher.status().lastError // "Cannot reach any Kafka broker at 127.0.0.1:9092 …"
 * if (isKafkaError(e) && e.reason === 'TOPIC_MISSING') console.log(e.topic)
 */
export class KafkaError extends EventloomError {
  readonly [KAFKA_BRAND] = true;
  readonly reason: KafkaErrorReason;
  readonly retryable: boolean;
  readonly brokers: readonly string[];
  readonly topic: string | undefined;

  constructor(
    reason: KafkaErrorReason,
    message: string,
    options: EventloomErrorOptions & { brokers?: readonly string[]; topic?: string } = {},
  ) {
    const { code, retryable } = REASONS[reason];
    super(code, message, {
      cause: options.cause,
      details: {
        reason,
        brokers: options.brokers ?? [],
        ...(options.topic === undefined ? {} : { topic: options.topic }),
        ...options.details,
      },
    });
    this.name = 'KafkaError';
    this.reason = reason;
    this.retryable = retryable;
    this.brokers = options.brokers ?? [];
    this.topic = options.topic;
  }
}

/** True for any {@link KafkaError}, also across two installed copies of the package. */
export function isKafkaError(e: unknown): e is KafkaError {
  return (
    typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[KAFKA_BRAND] === true
  );
}

interface Leaf {
  message: string;
  code?: string;
  apiId?: string;
}

/** The client nests errors (AggregateError → response error → per-partition errors). */
function leaves(error: unknown, out: Leaf[] = [], depth = 0): Leaf[] {
  if (depth > 6 || typeof error !== 'object' || error === null) {
    if (error !== undefined && error !== null && depth === 0) {
      out.push({ message: typeof error === 'string' ? error : JSON.stringify(error) });
    }
    return out;
  }
  const e = error as {
    message?: unknown;
    code?: unknown;
    apiId?: unknown;
    errors?: unknown;
    cause?: unknown;
  };
  const nested = Array.isArray(e.errors) ? (e.errors as unknown[]) : [];
  if (nested.length === 0 || typeof e.apiId === 'string') {
    out.push({
      message: typeof e.message === 'string' ? e.message : Object.prototype.toString.call(error),
      ...(typeof e.code === 'string' ? { code: e.code } : {}),
      ...(typeof e.apiId === 'string' ? { apiId: e.apiId } : {}),
    });
  }
  for (const n of nested) leaves(n, out, depth + 1);
  if (e.cause !== undefined) leaves(e.cause, out, depth + 1);
  return out;
}

/** The distinct innermost messages of a client error, e.g. "Cannot connect to any broker." */
export function describeKafkaError(error: unknown): string {
  const messages = [...new Set(leaves(error).map((l) => l.apiId ?? l.message))];
  return messages.join('; ') || String(error);
}

const UNREACHABLE =
  /Cannot connect to any broker|ECONNREFUSED|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ECONNRESET|Connection closed|socket hang up/i;

export interface TranslateContext {
  brokers: readonly string[];
  /** What we were doing, for the message: "publishing 120 events to eventloom.user". */
  action: string;
  topic?: string;
  fallback: 'PRODUCE_FAILED' | 'CONSUME_FAILED' | 'COMMIT_FAILED';
}

/** Turns a client error into a {@link KafkaError} whose message says what to do next. */
export function translateKafkaError(error: unknown, context: TranslateContext): KafkaError {
  if (isKafkaError(error)) return error;
  const found = leaves(error);
  const detail = describeKafkaError(error);
  const brokers = context.brokers.join(', ');
  const base = { cause: error, brokers: context.brokers };
  const rejected = found.find((l) => l.apiId !== undefined && l.apiId in REJECTED_OPTIONS);
  if (rejected?.apiId !== undefined) {
    return new KafkaError(
      'OPTION_REJECTED',
      `Kafka refused an option while ${context.action}: ${rejected.apiId} (${rejected.message}); ${REJECTED_OPTIONS[rejected.apiId]}`,
      { ...base, ...(context.topic === undefined ? {} : { topic: context.topic }) },
    );
  }
  if (found.some((l) => l.apiId === 'MESSAGE_TOO_LARGE' || l.apiId === 'RECORD_LIST_TOO_LARGE')) {
    return new KafkaError(
      'MESSAGE_TOO_LARGE',
      `Kafka refused ${context.action}: a message is larger than the topic's max.message.bytes (${detail})`,
      { ...base, ...(context.topic === undefined ? {} : { topic: context.topic }) },
    );
  }
  const unknownTopic = found
    .map((l) => /Unknown topic ([^\s]+?)\.?$/.exec(l.message)?.[1])
    .find((t) => t !== undefined);
  if (unknownTopic !== undefined || found.some((l) => l.apiId === 'UNKNOWN_TOPIC_OR_PARTITION')) {
    const topic = unknownTopic ?? context.topic ?? '(unknown)';
    return new KafkaError('TOPIC_MISSING', missingTopicMessage(topic, brokers), {
      ...base,
      topic,
    });
  }
  if (found.some((l) => UNREACHABLE.test(l.message) || l.code === 'PLT_KFK_NETWORK')) {
    return new KafkaError(
      'BROKER_UNREACHABLE',
      `Cannot reach any Kafka broker at ${brokers} while ${context.action} (${detail}); check the brokers option / KAFKA_BROKERS and that the broker is running (npm run services:up starts one on 127.0.0.1:9092)`,
      base,
    );
  }
  return new KafkaError(
    context.fallback,
    `Kafka failed while ${context.action} (brokers ${brokers}): ${detail}`,
    { ...base, ...(context.topic === undefined ? {} : { topic: context.topic }) },
  );
}

export function missingTopicMessage(topic: string, brokers: string): string {
  return `Kafka topic '${topic}' does not exist on ${brokers} and the broker does not create topics on first use (auto.create.topics.enable=false). Create it (kafka-topics.sh --bootstrap-server ${brokers} --create --topic ${topic} --partitions 3) or let Eventloom create it (the publisher's and the consumer's dead-letter createTopics option, e.g. createTopics: { partitions: 3, replicationFactor: 1 })`;
}

/** Errors thrown by the loops are always `Error`s. */
export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(describeKafkaError(error));
}
