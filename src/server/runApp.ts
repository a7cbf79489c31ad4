import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createReferenceApp,
  type PasswordHasher,
  READ_MODEL_INDEXES,
  type ReferenceApp,
  seedSampleCatalog,
} from '../app/index.js';
import { APP_SERVICES, type AppServiceContext, runAppServices } from '../app/services/index.js';
import {
  ConfigurationError,
  createWorkflowTimerIndex,
  type CryptoShreddingEventStore,
  type DocumentStore,
  type EventStore,
  type KeyStore,
  type ProjectionTarget,
} from '../core/index.js';
import type { AppConfig } from './appConfig.js';
import {
  appKeyEncryptionKey,
  appPreviousKeyEncryptionKeys,
  dataFolderSecret,
  rotateAppKeyEncryptionKey,
  withAppPersonalData,
} from './appStore.js';
import { countingStore } from './countingStore.js';
import { createServer, type EventloomServer } from './createServer.js';
import type { Logger } from '../core/logger.js';
import { registryGauge, type Registry } from '../node/metricsRegistry.js';
import { createMetrics } from './metrics.js';
import { createNodeServer } from './nodeServer.js';
import { startNotifications } from './appNotifications.js';
import { createSubscriptionRegistry, type SubscriptionRegistry } from './subscriptionRegistry.js';

/** What an extension (e.g. the Kafka publisher) gets to hook into a running app. */
export interface AppExtensionContext {
  /** The event store (appends through it are counted in /metrics); reads show plaintext. */
  store: EventStore;
  /**
   * The events as stored, personal fields encrypted (see `APP_PERSONAL_DATA`): what a
   * publisher copies elsewhere, so that forgetting a person reaches those copies too.
   */
  storedEvents: EventStore;
  /** Register subscriptions here to show their lag in /api/subscriptions and /metrics. */
  registry: SubscriptionRegistry;
  logger: Logger;
  /** The process's Prometheus registry (served at /metrics): register extension metrics here. */
  metrics: Registry;
  config: AppConfig;
  /** The app: what the shop's services' commands act on (`app.shop`, `app.shop.inventory`). */
  app: ReferenceApp;
  /** The app's private documents (credentials, sent-log, timers): not for read models. */
  privateDocuments: DocumentStore;
}

/** Started after the app, stopped before it. */
export type AppExtension = (
  context: AppExtensionContext,
) => Promise<{ name: string; stop(): Promise<void> }>;

export interface RunAppOptions {
  config: AppConfig;
  logger: Logger;
  /** The process's Prometheus registry. Default: a new one with the process metrics. */
  metrics?: Registry;
  extensions?: readonly AppExtension[];
  /** Default: argon2id with production costs. */
  hasher?: PasswordHasher;
  version?: string;
}

export interface RunningApp {
  /** e.g. `http://127.0.0.1:3000` */
  readonly url: string;
  readonly app: ReferenceApp;
  readonly server: EventloomServer;
  /** Stops accepting requests, lets those in flight finish, stops everything, closes the store. */
  close(): Promise<void>;
}

export interface Opened {
  /** The app's store: personal fields encrypted at rest, read in plaintext, `forget` erases. */
  store: CryptoShreddingEventStore;
  /** The same events as stored (personal fields encrypted): what may be copied elsewhere. */
  storedEvents: EventStore;
  readModels: ProjectionTarget;
  privateDocuments: DocumentStore;
  /** Creates the indexes the app's queries need in the read store (and the private one). */
  ensureIndexes: () => Promise<void>;
  close: (() => Promise<void>)[];
}

const INDEXED_FIELDS = [...new Set(READ_MODEL_INDEXES.map((i) => i.fields.join(',')))].map((f) =>
  f.split(','),
);

/** `json_extract` expressions exactly as the SQLite document store writes them. */
const sqliteIndex = (fields: readonly string[]): string =>
  `CREATE INDEX IF NOT EXISTS eventloom_documents_${fields.join('_')} ON eventloom_documents (collection, ${fields
    .map((f) => `json_extract(doc, '$.${f}')`)
    .join(', ')})`;

/**
 * Opens the configured store. `options.keyStore` puts the personal data keys elsewhere than
 * the store's own database (a worker uses the app's, so an erasure there reaches its copies).
 */
export async function openStores(
  config: AppConfig,
  log: Logger,
  options: { keyStore?: KeyStore } = {},
): Promise<Opened> {
  const close: (() => Promise<void>)[] = [];
  // First: a bad key refuses to start before anything is opened.
  const kek = await appKeyEncryptionKey(config);
  const previousKeks = appPreviousKeyEncryptionKeys(config);
  let opened: Omit<Opened, 'close'>;
  if (config.store.kind === 'sqlite') {
    const { createSqliteEventStore, createSqliteKeyStore, createSqliteProjectionTarget } =
      await import('../sqlite/index.js');
    // A commit that checkpoints the log stalls every request in flight: a worker does it.
    const store = createSqliteEventStore({
      path: config.store.path,
      walCheckpoints: 'background',
      logger: log,
    });
    close.push(() => store.close());
    opened = {
      store: withAppPersonalData(
        store,
        options.keyStore ?? createSqliteKeyStore(store.database),
        kek,
        previousKeks,
      ),
      storedEvents: store,
      readModels: createSqliteProjectionTarget(store.database),
      privateDocuments: store.documents.async,
      ensureIndexes: async () => {
        for (const fields of INDEXED_FIELDS) store.database.exec(sqliteIndex(fields));
      },
    };
  } else {
    const { createMongoEventStore, createMongoKeyStore, createMongoProjectionTarget } =
      await import('../mongodb/index.js');
    const store = createMongoEventStore({
      url: config.store.url,
      dbName: config.store.dbName,
      logger: log,
    });
    close.push(() => store.close());
    await store.ready();
    const target = createMongoProjectionTarget({ db: store.db, ready: () => store.ready() });
    opened = {
      store: withAppPersonalData(
        store,
        options.keyStore ?? createMongoKeyStore(store.db),
        kek,
        previousKeks,
      ),
      storedEvents: store,
      readModels: target,
      privateDocuments: target.documents,
      ensureIndexes: async () => {
        for (const { collection, fields } of READ_MODEL_INDEXES) {
          await store.db
            .collection(collection)
            .createIndex(Object.fromEntries(fields.map((f) => [f, 1])));
        }
        for (const collection of ['app_credentials', 'app_sessions']) {
          await store.db.collection(collection).createIndex({ userId: 1 });
        }
      },
    };
  }
  if (config.readModels.kind === 'postgres') {
    const { createPostgresProjectionTarget } = await import('../postgres/index.js');
    const target = createPostgresProjectionTarget({
      connectionString: config.readModels.connectionString,
      schema: config.readModels.schema,
      onPoolError: (error) => log.warn({ error }, 'idle PostgreSQL connection failed'),
    });
    close.unshift(() => target.close());
    await target.ready();
    const privateIndexes = opened.ensureIndexes;
    opened.readModels = target;
    opened.ensureIndexes = async () => {
      await privateIndexes();
      await target.createIndexes(INDEXED_FIELDS);
    };
  }
  try {
    const rewrapped = await rotateAppKeyEncryptionKey(opened.store, config);
    if (rewrapped > 0) {
      log.info({ rewrapped }, 're-wrapped personal data keys under the current master key');
    }
  } catch (error) {
    for (const closeOne of close) await closeOne();
    throw error;
  }
  return { ...opened, close };
}

/** SESSION_SECRET, or a secret generated once and kept (mode 600) in the data folder. */
async function sessionSecret(config: AppConfig): Promise<string> {
  if (config.sessionSecret !== undefined) return config.sessionSecret;
  return dataFolderSecret(config.dataDir, 'session-secret', () =>
    randomBytes(32).toString('base64url'),
  );
}

function listen(http: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new ConfigurationError(
              `Port ${port} on ${host} is in use; stop the other program or set PORT`,
              { cause: error },
            )
          : error.code === 'EACCES'
            ? new ConfigurationError(
                `Not allowed to listen on ${host}:${port}; use a port above 1023`,
                { cause: error },
              )
            : error,
      );
    };
    http.once('error', onError);
    http.listen(port, host, () => {
      http.off('error', onError);
      resolve((http.address() as AddressInfo).port);
    });
  });
}

/**
 * The shop's services, in this process, each workflow on a store subscription; their timers
 * are indexed in the app's private document store (the event store's own database), so a
 * restart on the same data resumes them.
 */
function startServices(
  app: ReferenceApp,
  store: EventStore,
  timers: DocumentStore,
  config: AppConfig,
  log: Logger,
) {
  const context: AppServiceContext = {
    store,
    shop: app.shop,
    inventory: app.shop.inventory,
    timers,
    now: () => new Date(),
    config: config.services,
    logger: log.child({ component: 'services' }),
  };
  const services = Object.values(APP_SERVICES).map((service) => service(context));
  return {
    ...runAppServices(services, context),
    workflows: services.flatMap((s) => s.workflows.map((w) => w.workflow)),
  };
}

/**
 * `eventloom_workflow_timers_pending{workflow}`, read from the timer index when scraped: a
 * timer that stays pending long after it was due means its workflow's loop is stuck.
 */
export function countPendingTimers(
  registry: Registry,
  timers: DocumentStore,
  workflows: readonly { readonly name: string }[],
): void {
  const index = createWorkflowTimerIndex(timers);
  registryGauge(registry, {
    name: 'eventloom_workflow_timers_pending',
    help: 'Workflow timers scheduled and not yet fired or cancelled.',
    labelNames: ['workflow'],
    async collect() {
      const counts = await Promise.all(
        workflows.map(async (w) => [w.name, (await index.list(w.name)).length] as const),
      );
      this.reset();
      for (const [workflow, pending] of counts) this.set({ workflow }, pending);
    },
  });
}

/**
 * Runs the reference app and its API: opens the configured stores, starts the read-model
 * projections (each continues from its checkpoint), the shop's services (inventory, orders,
 * shipping: see `APP_SERVICES`), the extensions and the HTTP server.
 *
 * @example
 * const running = await runApp({ config: loadAppConfig(process.env), logger });
 * console.log(running.url);
 * process.once('SIGTERM', () => void running.close());
 */
export async function runApp(options: RunAppOptions): Promise<RunningApp> {
  const { config, logger: log } = options;
  await mkdir(config.dataDir, { recursive: true });
  const opened = await openStores(config, log);
  let services: ReturnType<typeof startServices> | undefined;
  let notifications: ReturnType<typeof startNotifications> | undefined;
  const cleanup = async () => {
    // Services write to the store: they stop before it closes.
    await notifications?.stop().catch(() => undefined);
    await services?.stop().catch(() => undefined);
    for (const close of opened.close) await close().catch(() => undefined);
  };
  try {
    await opened.ensureIndexes();
    const metrics = createMetrics(options.metrics);
    const store = countingStore(opened.store, (category, n, seconds) =>
      metrics.countAppended(category, n, seconds),
    );
    const secret = await sessionSecret(config);
    const app = createReferenceApp({
      store,
      readModels: opened.readModels,
      privateDocuments: opened.privateDocuments,
      hasher: options.hasher,
      admins: config.admins,
      claimKeySecret: secret,
      // The shop's services reserve stock from OrderPlaced (started below).
      reserveOnPlace: false,
      forget: (userId) => opened.store.forget(userId),
      onNotice: (notice) => {
        const fields = {
          subscription: notice.subscription,
          ...('position' in notice ? { position: notice.position } : {}),
          ...('reason' in notice ? { reason: notice.reason } : {}),
          ...('error' in notice && notice.error !== undefined ? { error: notice.error } : {}),
        };
        if (notice.kind === 'caught-up') log.debug(fields, 'projection caught up');
        else if (notice.kind === 'stopped' && notice.error === undefined) {
          log.info(fields, 'projection stopped');
        } else log.warn(fields, `projection ${notice.kind}`);
      },
      onWarning: (message, error) => log.warn({ error }, message),
    });
    const registry = createSubscriptionRegistry();
    registry.add('projection', () => app.subscriptions());
    app.start();
    // With `workers`, the services run in `eventloom worker` processes; an extension runs
    // their commands here.
    if (config.serviceMode === 'in-process') {
      const running = startServices(app, store, opened.privateDocuments, config, log);
      services = running;
      registry.add('subscription', () => running.runners.map((runner) => runner.subscription));
    }
    if (config.seedSampleData) await seedSampleCatalog(app);
    if (config.serviceMode === 'in-process') {
      const mailing = startNotifications(config, app, store, opened.privateDocuments, log);
      notifications = mailing;
      registry.add('subscription', () => mailing.subscriptions);
    }

    const workflows = [...(services?.workflows ?? []), ...(notifications?.workflows ?? [])];
    countPendingTimers(metrics.registry, opened.privateDocuments, workflows);
    const server = createServer({
      app,
      readModels: opened.readModels,
      sessionDocuments: opened.privateDocuments,
      sessionSecret: secret,
      logger: log,
      explorerAccess: config.explorerAccess,
      // Pages served at the public origin are this app's own, whatever the proxy forwards.
      allowedOrigins: [
        ...config.allowedOrigins,
        ...(config.publicOrigin !== undefined ? [config.publicOrigin] : []),
      ],
      allowedHosts: [
        config.host,
        ...(config.publicOrigin !== undefined ? [new URL(config.publicOrigin).host] : []),
      ],
      secureCookies: config.secureCookies,
      trustProxy: config.trustProxy,
      webRoot: config.webRoot,
      readYourWritesMs: config.readYourWritesMs,
      ...(config.devMailbox
        ? {
            devMailbox: {
              sentLog: opened.privateDocuments,
              ...(config.smtpUrl === undefined
                ? { outboxDir: join(config.dataDir, 'outbox') }
                : {}),
            },
          }
        : {}),
      // The explorer shows the instances of every workflow this process runs.
      workflows,
      registry,
      metrics,
      storeKind: config.store.kind,
      readModelKind: config.readModels.kind,
      version: options.version,
    });
    await server.start();

    const extensions: { name: string; stop(): Promise<void> }[] = [];
    for (const extension of options.extensions ?? []) {
      extensions.push(
        await extension({
          store,
          storedEvents: opened.storedEvents,
          registry,
          logger: log,
          metrics: metrics.registry,
          config,
          app,
          privateDocuments: opened.privateDocuments,
        }),
      );
    }

    const http = createNodeServer(server.fetch, log);
    const port = await listen(http, config.port, config.host);
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    const url = `http://${host}:${port}`;
    log.info(
      {
        url,
        store:
          config.store.kind === 'sqlite' ? config.store.path : `mongodb (${config.store.dbName})`,
        readModels: config.readModels.kind,
        explorerAccess: config.explorerAccess,
        events: await store.headPosition(),
      },
      'eventloom started',
    );

    let closing: Promise<void> | undefined;
    return {
      url,
      app,
      server,
      close: () =>
        (closing ??= (async () => {
          const stopped = new Promise<void>((resolve) => http.close(() => resolve()));
          await server.close(); // ends live streams, which would keep the server open
          http.closeIdleConnections();
          const force = setTimeout(() => http.closeAllConnections(), 5000);
          await stopped;
          clearTimeout(force);
          for (const extension of extensions.reverse()) {
            await extension
              .stop()
              .catch((error: unknown) =>
                log.error({ extension: extension.name, error }, 'extension failed to stop'),
              );
          }
          await services?.stop();
          await app.stop();
          await cleanup();
          log.info({}, 'eventloom stopped');
        })()),
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
