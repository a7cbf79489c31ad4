import { mkdir } from 'node:fs/promises';
import { createEmailSender } from '../app/index.js';
import {
  APP_SERVICES,
  type AppService,
  type AppServiceContext,
  notificationsService,
} from '../app/services/index.js';
import { closestName } from '../core/closestName.js';
import {
  ConfigurationError,
  type KeyStore,
  type Logger,
  type WorkflowCommandHandler,
} from '../core/index.js';
import {
  createKafkaMessageSender,
  type KafkaConsumer,
  type KafkaWorkflowRunner,
  runKafkaWorkflow,
  startKafkaConsumer,
} from '../kafka/index.js';
import type { Registry } from '../node/metricsRegistry.js';
import {
  type AppConfig,
  countPendingTimers,
  openStores,
  type StoreConfig,
} from '../server/index.js';
import { toCommandMessage } from './remoteCommands.js';
import { categoryTopic, commandTopic, workerGroup } from './workerTopics.js';

interface WorkerDefinition {
  /** The stream categories whose topics carry the service's inputs. */
  readonly categories: readonly string[];
  /** Its commands act on the app's aggregates: sent to the command topic, run by the app. */
  readonly commandsRunInApp: boolean;
}

const WORKERS = {
  inventory: { categories: ['order'], commandsRunInApp: true },
  orders: { categories: ['order', 'reservation'], commandsRunInApp: true },
  shipping: { categories: ['order'], commandsRunInApp: true },
  // Sends mail itself; reads recipients from its copy of the user streams.
  notifications: { categories: ['user', 'order'], commandsRunInApp: false },
} as const satisfies Record<string, WorkerDefinition>;

export type WorkerName = keyof typeof WORKERS;

/** What `eventloom worker <name>` accepts. */
export const WORKER_NAMES = Object.keys(WORKERS) as WorkerName[];

/** The name checked: an unknown one is a {@link ConfigurationError} listing the names. */
export function toWorkerName(name: string): WorkerName {
  if ((WORKER_NAMES as readonly string[]).includes(name)) return name as WorkerName;
  const close = closestName(name, WORKER_NAMES);
  throw new ConfigurationError(
    `There is no worker '${name}'${close === undefined ? '' : ` (did you mean '${close}'?)`}; the workers are ${WORKER_NAMES.join(', ')}`,
    { details: { worker: name, known: WORKER_NAMES } },
  );
}

export interface ServiceWorkerOptions {
  name: string;
  /** The worker's own store (`EVENTLOOM_STORE` / `EVENTLOOM_DATA`), Kafka, prefix, key store. */
  config: AppConfig;
  logger: Logger;
  metrics?: Registry;
}

export interface RunningServiceWorker {
  readonly name: WorkerName;
  /** Resolves when every consumer of the worker got its partitions. */
  readonly ready: Promise<void>;
  /** Settles when a consumer stops by itself; rejects with its error. */
  readonly done: Promise<void>;
  /** Finishes the inputs in hand, commits, leaves the groups, closes the store. */
  stop(): Promise<void>;
}

/** Stands in for the app's modules in a worker: using one is a wiring mistake. */
function runsInApp<T extends object>(what: string): T {
  return new Proxy({} as T, {
    get(_, key) {
      throw new ConfigurationError(
        `${what}.${String(key)} was called in a worker; the app's aggregates are changed only by the app, through the command topic`,
      );
    },
  });
}

async function openKeyStore(
  where: StoreConfig,
  log: Logger,
): Promise<{ keyStore: KeyStore; close(): Promise<void> }> {
  if (where.kind === 'sqlite') {
    const { createSqliteEventStore, createSqliteKeyStore } = await import('../sqlite/index.js');
    const store = createSqliteEventStore({ path: where.path });
    return { keyStore: createSqliteKeyStore(store.database), close: () => store.close() };
  }
  const { createMongoEventStore, createMongoKeyStore } = await import('../mongodb/index.js');
  const store = createMongoEventStore({ url: where.url, dbName: where.dbName, logger: log });
  await store.ready();
  return { keyStore: createMongoKeyStore(store.db), close: () => store.close() };
}

function checkSettings(name: WorkerName, config: AppConfig): string {
  const brokers = config.kafkaBrokers;
  if (brokers === undefined) {
    throw new ConfigurationError(
      `eventloom worker ${name} needs KAFKA_BROKERS (e.g. KAFKA_BROKERS=127.0.0.1:9092): a worker gets its events and sends its commands over Kafka`,
      { details: { variable: 'KAFKA_BROKERS' } },
    );
  }
  if (
    name === 'notifications' &&
    (config.keyStore === undefined || config.masterKey === undefined)
  ) {
    throw new ConfigurationError(
      "eventloom worker notifications reads people's addresses, encrypted with the app's keys: set EVENTLOOM_KEY_STORE to the app's store (its SQLite file or mongodb:// URL) and EVENTLOOM_MASTER_KEY to the app's master key",
      {
        details: {
          variable: config.keyStore === undefined ? 'EVENTLOOM_KEY_STORE' : 'EVENTLOOM_MASTER_KEY',
        },
      },
    );
  }
  return brokers;
}

/**
 * Runs one of the shop's services as its own process: its workflows on Kafka consumer groups
 * (`<prefix>-worker-<name>`) with their streams and durable timers in this process's own
 * store. Commands on the app's aggregates go to `<prefix>.commands` (the app runs them, once
 * per command id); the notifications send mail here, reading recipients from a copy of the
 * user streams (as stored: sealed) decrypted with the app's key store, so an erasure in the
 * app reaches the copy.
 *
 * @example
 * const worker = await runServiceWorker({ name: 'orders', config: loadAppConfig(env), logger });
 * process.once('SIGTERM', () => void worker.stop());
 */
export async function runServiceWorker(
  options: ServiceWorkerOptions,
): Promise<RunningServiceWorker> {
  const name = toWorkerName(options.name);
  const { config } = options;
  const brokers = checkSettings(name, config);
  const definition: WorkerDefinition = WORKERS[name];
  const log = options.logger.child({ worker: name });
  const prefix = config.kafkaTopicPrefix;
  const closers: (() => Promise<void>)[] = [];
  const closeAll = async (): Promise<void> => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
  };
  try {
    await mkdir(config.dataDir, { recursive: true });
    const shared =
      config.keyStore === undefined ? undefined : await openKeyStore(config.keyStore, log);
    if (shared !== undefined) closers.push(() => shared.close());
    const opened = await openStores(
      config,
      log,
      shared === undefined ? {} : { keyStore: shared.keyStore },
    );
    closers.push(async () => {
      for (const close of opened.close) await close();
    });
    await opened.ensureIndexes();
    const sender = createKafkaMessageSender({ brokers, clientId: `eventloom-worker-${name}` });
    closers.push(() => sender.close());
    const topics = definition.categories.map((category) => categoryTopic(prefix, category));
    const toApp = commandTopic(prefix);
    await sender.ensureTopics([...topics, toApp]);

    const context: AppServiceContext = {
      store: opened.store,
      shop: runsInApp('shop'),
      inventory: runsInApp('inventory'),
      timers: opened.privateDocuments,
      now: () => new Date(),
      config: config.services,
      logger: log,
    };
    let service: AppService;
    if (name === 'notifications') {
      const mail = createEmailSender({ smtpUrl: config.smtpUrl, dataDir: config.dataDir });
      closers.push(() => mail.close());
      service = notificationsService({ mail, sentLog: opened.privateDocuments })(context);
    } else {
      service = (APP_SERVICES[name] as NonNullable<(typeof APP_SERVICES)[string]>)(context);
    }

    const consumers: KafkaConsumer[] = [];
    if (name === 'notifications') {
      // The copy of the user streams, as stored (personal fields sealed), same ids and
      // versions: a redelivery re-appends the same events at the same place, which writes nothing.
      const mirror = startKafkaConsumer({
        brokers,
        groupId: `${workerGroup(prefix, name)}-users`,
        topics: [categoryTopic(prefix, 'user')],
        logger: log.child({ component: 'user-copy' }),
        ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
        handler: async (event) => {
          await opened.storedEvents.appendToStream(
            event.streamId,
            [{ id: event.id, type: event.type, data: event.data, metadata: event.metadata }],
            { expectedVersion: event.version - 1 },
          );
        },
      });
      consumers.push(mirror);
      closers.push(() => mirror.stop());
    }

    const forward: WorkflowCommandHandler = async (command) => {
      await sender.send([toCommandMessage(command, toApp, new Date())]);
      log.debug({ command: command.type, id: command.id }, 'command sent to the app');
    };
    if (options.metrics !== undefined) {
      countPendingTimers(
        options.metrics,
        opened.privateDocuments,
        service.workflows.map((w) => w.workflow),
      );
    }
    const runners: KafkaWorkflowRunner[] = service.workflows.map(({ workflow, commands }) => {
      const handlers = definition.commandsRunInApp
        ? Object.fromEntries(Object.keys(commands).map((type) => [type, forward]))
        : commands;
      const runner = runKafkaWorkflow({
        brokers,
        topics,
        groupId:
          service.workflows.length === 1
            ? workerGroup(prefix, name)
            : `${workerGroup(prefix, name)}-${workflow.name}`,
        store: opened.store,
        workflow,
        commands: handlers,
        timers: opened.privateDocuments,
        now: context.now,
        logger: log,
        ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
        // A recipient's copy may trail the mail's cause by a moment: retry for about a minute.
        retry: { maxAttempts: 30, maxDelayMs: 2000 },
      });
      return runner;
    });
    closers.push(async () => {
      await Promise.all(runners.map((runner) => runner.stop()));
    });
    const done = Promise.race([...runners.map((r) => r.done), ...consumers.map((c) => c.done)]);
    done.catch(() => undefined);
    const ready = Promise.all([
      ...runners.map((r) => r.ready),
      ...consumers.map((c) => c.ready),
    ]).then(() => undefined);
    log.info({ topics, groupId: workerGroup(prefix, name), commandTopic: toApp }, 'worker started');
    let stopping: Promise<void> | undefined;
    return {
      name,
      ready,
      done,
      stop: () =>
        (stopping ??= (async () => {
          await closeAll();
          log.info({}, 'worker stopped');
        })()),
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
