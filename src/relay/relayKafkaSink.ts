import type * as Kafka from '@platformatic/kafka';
import type { Logger } from '../cli/logger.js';
import { ConfigurationError } from '../core/errors.js';
import type { KafkaStepConfig } from './relayConfig.js';
import { RelayStepError } from './relayErrors.js';
import type { RelayStep, RetrySettings } from './relayStep.js';
import { compileTemplate, getPath, stringify } from './relayTemplate.js';

type KafkaModule = typeof Kafka;
type StringProducer = InstanceType<KafkaModule['Producer']> & {
  send(options: {
    messages: { topic: string; key?: string; value?: string; headers?: Record<string, string> }[];
    acks?: number;
  }): Promise<unknown>;
};

interface Pending {
  topic: string;
  key: string;
  value: string;
  headers: Record<string, string>;
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
  constructor(private readonly log: Logger) {}

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
            serializers: kafka.stringSerializers,
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

  send(topic: string, key: string, value: string, headers: Record<string, string>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ topic, key, value, headers, resolve, reject });
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
      await Promise.all([...new Set(batch.map((m) => m.topic))].map((t) => this.#ensureTopic(t)));
      await producer.send({
        messages: batch.map(({ topic, key, value, headers }) => ({ topic, key, value, headers })),
      });
      for (const m of batch) m.resolve();
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
          this.log.info('created Kafka topic', { topic });
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

function describeKafkaError(error: unknown): string {
  const e = error as { message?: string; errors?: unknown[]; code?: string };
  const inner = Array.isArray(e.errors)
    ? e.errors.map((x) => describeKafkaError(x)).join('; ')
    : '';
  const apiId = (error as { apiId?: string }).apiId;
  return [e.code, apiId, e.message, inner].filter(Boolean).join(' ');
}

/** The step's brokers: its `brokers`, else KAFKA_BROKERS, else 127.0.0.1:9092. */
export function kafkaBrokers(config: KafkaStepConfig): string[] {
  const value = config.brokers ?? process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
  return (Array.isArray(value) ? value : value.split(',')).map((b) => b.trim()).filter(Boolean);
}

/**
 * The `kafka` step: produces the message as JSON to a templated topic, keyed by a field
 * (default `documentKey._id`), with headers `idempotency-key`, `operation-type`, `ns`.
 */
export function createKafkaStep(
  config: KafkaStepConfig,
  name: string,
  retry: RetrySettings,
  producers: KafkaProducers,
): RelayStep {
  const brokers = kafkaBrokers(config);
  const topic = compileTemplate(config.topic ?? 'cdc.{{ns.db}}.{{ns.coll}}', `${name}.topic`);
  const keyPath = config.key ?? 'documentKey._id';
  const producer = producers.get(brokers, config);
  return {
    name,
    retry,
    async run(message, context) {
      const topicName = stringify(await topic(message));
      if (!/^[A-Za-z0-9._-]{1,249}$/.test(topicName)) {
        throw new RelayStepError(
          `topic '${topicName}' is not a valid Kafka topic name (letters, digits, . _ - only); adjust ${name}.topic`,
          { retryable: false },
        );
      }
      const m = message as { operationType?: unknown; ns?: { db?: unknown; coll?: unknown } };
      const text = (v: unknown): string => (typeof v === 'string' ? v : '');
      await producer.send(
        topicName,
        stringify(getPath(message, keyPath)),
        JSON.stringify(message),
        {
          'idempotency-key': context.key,
          'operation-type': text(m.operationType),
          ns: `${text(m.ns?.db)}.${text(m.ns?.coll)}`,
        },
      );
      return undefined;
    },
  };
}
