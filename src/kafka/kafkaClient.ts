import type * as PlatformaticKafka from '@platformatic/kafka';
import type { Admin, BaseOptions } from '@platformatic/kafka';
import { ValidationError } from '../core/errors.js';
import { KafkaError } from './kafkaErrors.js';

export type KafkaModule = typeof PlatformaticKafka;

/**
 * Client settings for `@platformatic/kafka` beyond the broker list: TLS, SASL, timeouts,
 * client id. Passed through to every producer, consumer and admin client Eventloom creates.
 *
 * @example
 * { bootstrapBrokers: ['broker-1:9093'], tls: {}, sasl: { mechanism: 'PLAIN', username, password } }
 */
export type KafkaClientSettings = Omit<BaseOptions, 'clientId' | 'bootstrapBrokers'> & {
  bootstrapBrokers: readonly string[];
  clientId?: string;
};

/**
 * Where Kafka is: broker addresses (`'host:port'`, a list or a comma-separated string, as in
 * `KAFKA_BROKERS`), or full client settings. Exactly one of the two.
 */
export type KafkaConnection =
  | { brokers: string | readonly string[]; client?: undefined }
  | { client: KafkaClientSettings; brokers?: undefined };

let loading: Promise<KafkaModule> | undefined;

/**
 * Loads the optional peer dependency on first use, so importing `eventloom/kafka` (or a CLI
 * that may publish) works without it until Kafka is actually used.
 */
export function loadKafka(): Promise<KafkaModule> {
  loading ??= import('@platformatic/kafka').catch((error: unknown) => {
    loading = undefined;
    throw new KafkaError(
      'CLIENT_MISSING',
      'eventloom/kafka needs the Kafka client package: npm install @platformatic/kafka@^1.35 (the 1.x line runs on Node 20)',
      { cause: error },
    );
  });
  return loading;
}

const HOST_PORT = /^[^\s:,/]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/;

/** Normalizes and checks a broker list; names the bad entry and the expected form. */
export function parseBrokers(
  value: string | readonly string[],
  path = 'options.brokers',
): string[] {
  const list = (typeof value === 'string' ? value.split(',') : [...value]).map((b) =>
    typeof b === 'string' ? b.trim() : b,
  );
  const brokers = list.filter((b) => b !== '');
  if (brokers.length === 0) {
    throw new ValidationError(
      path,
      "must name at least one broker as 'host:port', e.g. '127.0.0.1:9092'",
    );
  }
  for (const b of brokers) {
    if (typeof b !== 'string' || !HOST_PORT.test(b)) {
      throw new ValidationError(
        path,
        `${JSON.stringify(b)} is not a broker address; use 'host:port', e.g. '127.0.0.1:9092'`,
      );
    }
  }
  return brokers;
}

export interface ResolvedConnection {
  brokers: string[];
  /** Options for any client, without `clientId`. */
  base: Omit<BaseOptions, 'clientId'>;
  clientId: string;
}

/** Validates `brokers | client` and returns what the client constructors need. */
export function resolveConnection(
  options: { brokers?: string | readonly string[]; client?: KafkaClientSettings },
  defaultClientId: string,
): ResolvedConnection {
  if (options.brokers !== undefined && options.client !== undefined) {
    throw new ValidationError(
      'options',
      'give either brokers or client (client.bootstrapBrokers), not both',
    );
  }
  if (options.client !== undefined) {
    const { clientId, bootstrapBrokers, ...rest } = options.client;
    const brokers = parseBrokers(bootstrapBrokers, 'options.client.bootstrapBrokers');
    return {
      brokers,
      base: { retries: 2, retryDelay: 100, ...rest, bootstrapBrokers: brokers },
      clientId: clientId ?? defaultClientId,
    };
  }
  if (options.brokers === undefined) {
    throw new ValidationError(
      'options.brokers',
      "is required: the Kafka brokers as 'host:port' (e.g. process.env.KAFKA_BROKERS ?? '127.0.0.1:9092')",
    );
  }
  const brokers = parseBrokers(options.brokers);
  // Few, quick client-level retries: the long-running loops own backoff and report it.
  return {
    brokers,
    base: { bootstrapBrokers: brokers, retries: 2, retryDelay: 100, connectTimeout: 5000 },
    clientId: defaultClientId,
  };
}

/** An admin client made on first use and closed with the publisher or consumer that owns it. */
export interface LazyAdmin {
  get(): Promise<Admin>;
  close(): Promise<void>;
}

/** The admin client of a publisher or consumer: `<clientId>-admin`, created when first needed. */
export function lazyAdmin(connection: ResolvedConnection): LazyAdmin {
  let admin: Admin | undefined;
  return {
    async get() {
      const kafka = await loadKafka();
      admin ??= new kafka.Admin({ ...connection.base, clientId: `${connection.clientId}-admin` });
      return admin;
    },
    async close() {
      await admin?.close().catch(() => undefined);
    },
  };
}
