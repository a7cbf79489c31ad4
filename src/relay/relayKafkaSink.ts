import type * as Kafka from '@platformatic/kafka';
import type { Logger } from '../core/logger.js';
import { ConfigurationError } from '../core/errors.js';
import { DEFAULT_MAX_MESSAGE_BYTES, readMaxMessageBytes } from '../kafka/kafkaTopics.js';
import { headerNameBytes } from '../kafka/kafkaSerializers.js';
import type { KafkaStepConfig } from './relayConfig.js';
import { RelayStepError } from './relayErrors.js';
import type { RelayStep, RelayStepContext, RetrySettings } from './relayStep.js';
import { compileTemplate, pathReader, stringify } from './relayTemplate.js';
import { tracingEnabled } from '../core/tracing.js';
import { outgoingTraceHeaders } from './relayTracing.js';

type KafkaModule = typeof Kafka;
type StringProducer = InstanceType<KafkaModule['Producer']> & {
  send(options: {
    messages: { topic: string; key?: string; value?: Buffer; headers?: Headers }[];
    acks?: number;
  }): Promise<unknown>;
};

/**
 * A message's headers. A Map, because the client turns any other object into one per
 * message; the keys are a handful of names, encoded once (see headerNameBytes).
 */
type Headers = Map<string, string>;

interface Pending {
  topic: string;
  key: string;
  /**
   * UTF-8 bytes, encoded when queued: a message waiting for its batch and its acknowledgement
   * then holds a view of memory outside the JS heap, not a string the collector copies.
   */
  value: Buffer;
  headers: Headers;
  /** The record's size bound (see recordBytes), computed once. */
  bytes: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * One producer per broker list, shared by every kafka step of a relay. Sends are batched:
 * a batch goes out when it is full or `lingerMs` after its first message, so thousands of
 * concurrent deliveries share a few produce requests. A failed batch rejects each of its
 * messages, whose steps then retry on their own.
 */
export class KafkaProducers {
  #producers = new Map<string, BatchingProducer>();
  constructor(
    private readonly log: Logger,
    /** Brokers of a step that names none (the relay CLI passes KAFKA_BROKERS). */
    readonly defaultBrokers = '127.0.0.1:9092',
  ) {}

  get(brokers: string[], config: KafkaStepConfig): BatchingProducer {
    const id = `${brokers.join(',')}|${config.clientId ?? ''}`;
    let producer = this.#producers.get(id);
    if (!producer) {
      producer = new BatchingProducer(brokers, config, this.log);
      this.#producers.set(id, producer);
    }
    return producer;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#producers.values()].map((p) => p.close()));
    this.#producers.clear();
  }
}

export class BatchingProducer {
  #queue: Pending[] = [];
  #timer: NodeJS.Timeout | undefined;
  #inFlight = 0;
  #kafka: Promise<{ producer: StringProducer; admin: InstanceType<KafkaModule['Admin']> }>;
  #topics = new Map<string, Promise<void>>();
  #limits = new Map<string, Promise<number>>();
  readonly #batchSize: number;
  readonly #lingerMs: number;

  constructor(
    brokers: string[],
    private readonly config: KafkaStepConfig,
    private readonly log: Logger,
  ) {
    this.#batchSize = config.batchSize ?? 500;
    this.#lingerMs = config.lingerMs ?? 2;
    this.#kafka = import('@platformatic/kafka').then(
      (kafka) => {
        const clientId = config.clientId ?? 'eventloom-relay';
        return {
          producer: new kafka.Producer({
            clientId,
            bootstrapBrokers: brokers,
            serializers: {
              ...kafka.stringSerializers,
              value: (value: Buffer | undefined) => value,
              headerKey: headerNameBytes,
            },
            acks: kafka.ProduceAcks.ALL,
            // Java-compatible murmur2, so a key lands where other clients would put it.
            partitioner: kafka.compatibilityPartitioner,
          }) as unknown as StringProducer,
          admin: new kafka.Admin({ clientId: `${clientId}-admin`, bootstrapBrokers: brokers }),
        };
      },
      (error: unknown) => {
        throw new ConfigurationError(
          `the kafka step needs the package @platformatic/kafka: npm install @platformatic/kafka@^1 (${(error as Error).message})`,
          { cause: error },
        );
      },
    );
    this.#kafka.catch(() => undefined);
  }

  /** Resolves once the client library is loaded (rejects with a clear error if it is missing). */
  async ready(): Promise<void> {
    await this.#kafka;
  }

  send(topic: string, key: string, json: string, headers: Headers): Promise<void> {
    const value = Buffer.from(json, 'utf8');
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({
        topic,
        key,
        value,
        headers,
        bytes: recordBytes(key, value, headers),
        resolve,
        reject,
      });
      if (this.#queue.length >= this.#batchSize) this.#flushSoon(0);
      else this.#flushSoon(this.#lingerMs);
    });
  }

  #flushSoon(delay: number): void {
    if (delay === 0) {
      if (this.#timer) clearTimeout(this.#timer);
      this.#timer = undefined;
      void this.#flush();
      return;
    }
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      void this.#flush();
    }, delay);
  }

  async #flush(): Promise<void> {
    // A few produce requests in flight at once; per-document order is kept by the relay,
    // which never has two changes of one document in flight.
    if (this.#inFlight >= 4 || this.#queue.length === 0) return;
    const batch = this.#queue.splice(0, this.#batchSize);
    this.#inFlight++;
    try {
      const { producer } = await this.#kafka;
      const topics = [...new Set(batch.map((m) => m.topic))];
      await Promise.all(topics.map((t) => this.#ensureTopic(t)));
      const limits = new Map(
        await Promise.all(topics.map(async (t) => [t, await this.#maxMessageBytes(t)] as const)),
      );
      // The broker applies max.message.bytes to each partition's record batch: a message
      // over it can never be produced, and must not take the messages batched with it down.
      const sendable: Pending[] = [];
      for (const m of batch) {
        const size = RECORD_BATCH_OVERHEAD + m.bytes;
        const limit = limits.get(m.topic) as number;
        if (size <= limit) sendable.push(m);
        else
          m.reject(
            new RelayStepError(
              `message of ${size} bytes is too large for Kafka topic '${m.topic}' (max.message.bytes = ${limit}); drop fields with a map step (pick/omit) or raise the topic's max.message.bytes`,
              { retryable: false, details: { topic: m.topic, bytes: size, limit } },
            ),
          );
      }
      for (const chunk of chunksUpTo(sendable, Math.min(...limits.values())))
        await this.#produce(producer, chunk);
    } catch (error) {
      const failure =
        error instanceof ConfigurationError
          ? new RelayStepError(error.message, { retryable: false, cause: error })
          : new RelayStepError(`Kafka produce failed: ${describeKafkaError(error)}`, {
              retryable: true,
              cause: error,
            });
      for (const m of batch) m.reject(failure);
    } finally {
      this.#inFlight--;
      if (this.#queue.length > 0)
        this.#flushSoon(this.#queue.length >= this.#batchSize ? 0 : this.#lingerMs);
    }
  }

  async #produce(producer: StringProducer, chunk: Pending[]): Promise<void> {
    try {
      await producer.send({
        messages: chunk.map(({ topic, key, value, headers }) => ({ topic, key, value, headers })),
      });
      for (const m of chunk) m.resolve();
    } catch (error) {
      const permanent = permanentKafkaError(error);
      if (permanent !== undefined && chunk.length > 1) {
        // The broker refused the request for good but names no message: send them one by
        // one so that only the culprit fails (those on partitions the broker had accepted
        // arrive twice: at least once, never lost).
        for (const m of chunk) await this.#produce(producer, [m]);
        return;
      }
      const failure = new RelayStepError(`Kafka produce failed: ${describeKafkaError(error)}`, {
        retryable: permanent === undefined,
        cause: error,
        ...(permanent ? { details: { kafkaError: permanent } } : {}),
      });
      for (const m of chunk) m.reject(failure);
    }
  }

  /** The topic's max.message.bytes: the step's `maxMessageBytes`, else what the broker says. */
  #maxMessageBytes(topic: string): Promise<number> {
    if (this.config.maxMessageBytes !== undefined)
      return Promise.resolve(this.config.maxMessageBytes);
    let limit = this.#limits.get(topic);
    if (!limit) {
      limit = this.#kafka.then(async ({ admin }) => {
        try {
          const value = await readMaxMessageBytes(admin, topic);
          if (value !== undefined) return value;
        } catch (error) {
          this.log.warn(
            {
              topic,
              error: describeKafkaError(error),
            },
            "cannot read the topic's max.message.bytes; assuming the Kafka default",
          );
          this.#limits.delete(topic);
        }
        return DEFAULT_MAX_MESSAGE_BYTES;
      });
      this.#limits.set(topic, limit);
    }
    return limit;
  }

  #ensureTopic(topic: string): Promise<void> {
    if (this.config.createTopics === false) return Promise.resolve();
    let ready = this.#topics.get(topic);
    if (!ready) {
      ready = this.#kafka.then(async ({ admin }) => {
        try {
          await admin.createTopics({
            topics: [topic],
            partitions: this.config.partitions ?? 3,
            replicas: this.config.replicationFactor ?? 1,
          });
          this.log.info({ topic }, 'created Kafka topic');
        } catch (error) {
          if (
            !JSON.stringify(describeKafkaError(error)).includes('TOPIC_ALREADY_EXISTS') &&
            !/already exists/i.test(describeKafkaError(error))
          ) {
            throw error;
          }
        }
      });
      ready.catch(() => this.#topics.delete(topic));
      this.#topics.set(topic, ready);
    }
    return ready;
  }

  async close(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    for (const m of this.#queue.splice(0))
      m.reject(new RelayStepError('Kafka producer closed', { retryable: true }));
    try {
      const { producer, admin } = await this.#kafka;
      await Promise.allSettled([producer.close(), admin.close()]);
    } catch {
      // Never created: nothing to close.
    }
  }
}

/** Bytes of a record batch header, and a generous bound of one record's own framing. */
const RECORD_BATCH_OVERHEAD = 61;
const RECORD_OVERHEAD = 32;

function recordBytes(key: string, value: Buffer, headers: Headers): number {
  let size = RECORD_OVERHEAD + Buffer.byteLength(key) + value.length;
  headers.forEach((v, k) => {
    size += 8 + Buffer.byteLength(k) + Buffer.byteLength(v);
  });
  return size;
}

/** Consecutive runs of messages whose record batch stays within `limit` bytes. */
function chunksUpTo(messages: Pending[], limit: number): Pending[][] {
  const chunks: Pending[][] = [];
  let current: Pending[] = [];
  let size = RECORD_BATCH_OVERHEAD;
  for (const m of messages) {
    const bytes = m.bytes;
    if (current.length > 0 && size + bytes > limit) {
      chunks.push(current);
      current = [];
      size = RECORD_BATCH_OVERHEAD;
    }
    current.push(m);
    size += bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * Broker errors that sending the same message again cannot cure. Everything else (network,
 * timeouts, leader changes, not enough replicas, authorization an operator may still grant)
 * is retried with backoff.
 */
const PERMANENT_KAFKA_ERRORS: ReadonlySet<string> = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'INVALID_TOPIC_EXCEPTION',
  'UNSUPPORTED_FOR_MESSAGE_FORMAT',
]);

/** The permanent Kafka error id inside `error` (nested in aggregate errors), if any. */
export function permanentKafkaError(error: unknown): string | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const e = error as { apiId?: unknown; errors?: unknown; cause?: unknown };
  if (typeof e.apiId === 'string' && PERMANENT_KAFKA_ERRORS.has(e.apiId)) return e.apiId;
  for (const inner of Array.isArray(e.errors) ? e.errors : []) {
    const found = permanentKafkaError(inner);
    if (found) return found;
  }
  return e.cause === undefined ? undefined : permanentKafkaError(e.cause);
}

function describeKafkaError(error: unknown): string {
  const e = error as { message?: string; errors?: unknown[]; code?: string };
  const inner = Array.isArray(e.errors)
    ? e.errors.map((x) => describeKafkaError(x)).join('; ')
    : '';
  const apiId = (error as { apiId?: string }).apiId;
  return [e.code, apiId, e.message, inner].filter(Boolean).join(' ');
}

/** The step's brokers: its `brokers`, else the relay's default brokers. */
export function kafkaBrokers(config: KafkaStepConfig, defaultBrokers: string): string[] {
  const value = config.brokers ?? defaultBrokers;
  return (Array.isArray(value) ? value : value.split(',')).map((b) => b.trim()).filter(Boolean);
}

/**
 * The `kafka` step: produces the message as JSON to a templated topic, keyed by a field
 * (default `documentKey._id`), with headers `idempotency-key`, `operation-type`, `ns`.
 */
export function createKafkaStep(
  config: KafkaStepConfig,
  stepName: string,
  retry: RetrySettings,
  producers: KafkaProducers,
): RelayStep {
  const brokers = kafkaBrokers(config, producers.defaultBrokers);
  const topic = compileTemplate(config.topic ?? 'cdc.{{ns.db}}.{{ns.coll}}', `${stepName}.topic`);
  const readKey = pathReader(config.key ?? 'documentKey._id');
  const producer = producers.get(brokers, config);
  // Most configs give one topic or a few: check each name once, not once per change.
  const validTopics = new Set<string>();
  return {
    name: stepName,
    retry,
    readsOnly: true,
    run(message, context) {
      // A plain topic template decides at once: then the step makes one promise, the send's.
      return topic.sync === undefined
        ? topic(message).then((name) => produce(message, context, name))
        : produce(message, context, topic.sync(message));
    },
  };

  function produce(message: unknown, context: RelayStepContext, name: unknown): Promise<void> {
    const topicName = stringify(name);
    if (!validTopics.has(topicName) && !/^[A-Za-z0-9._-]{1,249}$/.test(topicName)) {
      throw new RelayStepError(
        `topic '${topicName}' is not a valid Kafka topic name (letters, digits, . _ - only); adjust ${stepName}.topic`,
        { retryable: false },
      );
    }
    if (validTopics.size < 1000) validTopics.add(topicName);
    const m = message as { operationType?: unknown; ns?: { db?: unknown; coll?: unknown } };
    const headers: Headers = new Map();
    headers.set('idempotency-key', context.key);
    headers.set('operation-type', text(m.operationType));
    headers.set('ns', `${text(m.ns?.db)}.${text(m.ns?.coll)}`);
    if (context.change.trace !== undefined || tracingEnabled()) {
      for (const [k, v] of Object.entries(outgoingTraceHeaders(context.change))) headers.set(k, v);
    }
    return producer.send(topicName, stringify(readKey(message)), JSON.stringify(message), headers);
  }
}

const text = (v: unknown): string => (typeof v === 'string' ? v : '');
