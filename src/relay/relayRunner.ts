import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { type Logger, noopLogger } from '../core/logger.js';
import { errorMessage } from '../core/async.js';
import { StoreUnavailableError } from '../core/errors.js';
import type { EventStore } from '../core/types.js';
import type { RelayConfig } from './relayConfig.js';
import { Checkpointer, Deliverer } from './relayDelivery.js';
import { RelayLease } from './relayLease.js';
import { createMetricsRegistry, type Registry } from '../node/metricsRegistry.js';
import { RelayMetrics, registerRelayMetrics } from './relayMetrics.js';
import { PipelineFactory } from './relayPipeline.js';
import { Routing } from './relayRouting.js';
import { startOpsServer } from './relayServer.js';
import type { RelaySource, SourceContext } from './relaySource.js';
import type { RelayStateStore } from './relayStateStore.js';

export type RelayState = 'starting' | 'standby' | 'active' | 'stopping' | 'stopped' | 'failed';

export interface RelayStatus {
  relay: string;
  state: RelayState;
  owner: string;
  inFlight: number;
  streams: number;
  processed: number;
  deadLettered: number;
  error?: string;
}

export interface RelayHandle {
  readonly name: string;
  /** This process's lease owner id. */
  readonly owner: string;
  /** Port of /health and /metrics, when enabled. */
  readonly port: number | undefined;
  readonly metrics: RelayMetrics;
  status(): RelayStatus;
  /** Graceful: stop reading, finish in-flight deliveries, checkpoint, release the lease. */
  stop(): Promise<void>;
  /** Settles when the relay stopped; rejects when it failed. */
  readonly done: Promise<void>;
}

export interface StartRelayOptions {
  /** Default: no logging. */
  log?: Logger;
  /** Names this relay's host in lease owners when `lease.instanceId` is unset. Default: the host name. */
  instanceId?: string;
  /** Brokers of a Kafka step that names none. Default 127.0.0.1:9092. */
  kafkaBrokers?: string;
  /**
   * The process's Prometheus registry; the relay's metrics are registered there (labelled by
   * relay) and /metrics renders it. Default: a registry of its own with the process metrics.
   */
  metrics?: Registry;
  /** Lease owner id. Default `<hostname>:<pid>:<random>`. */
  owner?: string;
  /** Overrides `server.port` (0 = any free port). */
  port?: number;
}

const STATE_DATABASE = 'eventloom_relay';

/** The state store a config names (default: the source's MongoDB, or a file next to a SQLite store). */
export async function openRelayState(
  config: RelayConfig,
): Promise<{ state: RelayStateStore; ownDatabases: string[] }> {
  const relay = config.name;
  const sourceUrl =
    'mongodb' in config.source
      ? config.source.mongodb.url
      : /^mongodb(\+srv)?:\/\//.test(config.source.eventloom.store)
        ? config.source.eventloom.store
        : undefined;
  if (config.state && 'sqlite' in config.state) {
    const { createSqliteRelayState } = await import('./relaySqliteState.js');
    return {
      state: await createSqliteRelayState({
        path: resolve(config.baseDir, config.state.sqlite.path),
        relay,
      }),
      ownDatabases: [],
    };
  }
  const url = config.state?.mongodb.url ?? sourceUrl;
  if (url === undefined) {
    const storePath = resolve(
      config.baseDir,
      (config.source as { eventloom: { store: string } }).eventloom.store,
    );
    const { createSqliteRelayState } = await import('./relaySqliteState.js');
    return {
      state: await createSqliteRelayState({
        path: resolve(dirname(storePath), 'relay-state.db'),
        relay,
      }),
      ownDatabases: [],
    };
  }
  const database = config.state?.mongodb.database ?? STATE_DATABASE;
  const { createMongoRelayState } = await import('./relayMongoState.js');
  try {
    return {
      state: await createMongoRelayState({ url, database, relay }),
      ownDatabases: [database],
    };
  } catch (error) {
    const where = config.state?.mongodb.url
      ? 'state.mongodb.url'
      : 'mongodb' in config.source
        ? 'source.mongodb.url'
        : 'source.eventloom.store';
    throw new StoreUnavailableError(
      `relay ${relay}: cannot reach MongoDB at ${redactUrl(url)} (relay config ${where}): ${errorMessage(error)}. Start MongoDB or correct ${where}; a standalone server or the test stand-in takes mongodb://host:27017 without ?replicaSet=`,
      { cause: error, details: { url: redactUrl(url), path: where } },
    );
  }
}

/** The URL without its password, for messages. */
function redactUrl(url: string): string {
  return url.replace(/^([a-z+]+:\/\/[^:@/]+):[^@/]*@/i, '$1:***@');
}

/**
 * A lease holder `<instance>:<pid>:<random>` is this relay's own previous run when it has
 * the same instance (host name, or `lease.instanceId` / EVENTLOOM_RELAY_INSTANCE) and its
 * process is gone: its pid is ours (a restarted container) or runs nothing here. A live
 * relay — another process on this host, or anything it cannot tell — is never taken over
 * early.
 */
function isOwnDeadPredecessor(holder: string, instance: string): boolean {
  const parts = holder.split(':');
  if (parts.length < 3 || parts.slice(0, -2).join(':') !== instance) return false;
  const pid = Number(parts.at(-2));
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as { code?: unknown }).code === 'ESRCH';
  }
}

/**
 * Starts a relay: validates pipelines, serves /health and /metrics, waits for the lease,
 * then streams changes through the pipelines with at-least-once delivery.
 *
 * @example
 * const relay = await startRelay(await loadRelayConfig('relay.yaml', process.env));
 * process.on('SIGTERM', () => void relay.stop());
 * await relay.done;
 */
export async function startRelay(
  config: RelayConfig,
  options: StartRelayOptions = {},
): Promise<RelayHandle> {
  const name = config.name;
  const instance = config.lease?.instanceId ?? options.instanceId ?? hostname();
  const owner = options.owner ?? `${instance}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const log = (options.log ?? noopLogger).child({ component: 'relay', relay: name });
  const metrics = new RelayMetrics(name);
  const registry = options.metrics ?? createMetricsRegistry();
  let state: RelayState = 'starting';
  let failure: string | undefined;
  const factory = new PipelineFactory({
    baseDir: config.baseDir,
    log,
    ...(options.kafkaBrokers !== undefined ? { kafkaBrokers: options.kafkaBrokers } : {}),
    ...(config.delivery?.retry ? { retry: config.delivery.retry } : {}),
  });
  let deliverer: Deliverer | undefined;
  let checkpointsAt = '';
  const status = (): RelayStatus => ({
    relay: name,
    state,
    owner,
    inFlight: deliverer?.inFlight ?? 0,
    streams: metrics.streams,
    processed: metrics.processed,
    deadLettered: metrics.deadLettered,
    ...(failure ? { error: failure } : {}),
  });

  // The port first: a clash fails before any connection is opened that would keep the
  // process alive.
  const serverConfig = config.server === false ? undefined : (config.server ?? {});
  const ops =
    serverConfig === undefined && options.port === undefined
      ? undefined
      : await startOpsServer({
          host: serverConfig?.host ?? '127.0.0.1',
          port: options.port ?? serverConfig?.port ?? 9464,
          health: () => ({
            ok: state !== 'failed',
            body: { ...status(), checkpoints: checkpointsAt },
          }),
          metrics: () => registry.metrics(),
          metricsContentType: registry.contentType,
        });
  // After the port: a clash leaves nothing registered in a shared registry.
  const unregisterMetrics = registerRelayMetrics(registry, metrics);
  const closeOps = async (): Promise<void> => {
    unregisterMetrics();
    await ops?.close();
  };
  let store: RelayStateStore;
  let ownDatabases: string[];
  let routing: Routing;
  try {
    ({ state: store, ownDatabases } = await openRelayState(config));
  } catch (error) {
    await factory.close();
    await closeOps();
    throw error;
  }
  checkpointsAt = store.description;
  try {
    routing = await Routing.build(config, factory, ownDatabases);
  } catch (error) {
    await factory.close();
    await store.close();
    await closeOps();
    throw error;
  }
  const leaseEnabled = config.lease?.enabled ?? true;
  const lease = new RelayLease(store, owner, config.lease?.ttlMs ?? 10_000, log, (holder) =>
    isOwnDeadPredecessor(holder, instance),
  );
  const stopping = new AbortController();
  /** When stopping began, for the final log line. */
  let stoppingSince: number | undefined;

  /** One term as the active relay; resolves when it ends (stop, lease lost) or rejects (failure). */
  const serveTerm = async (): Promise<'stopped' | 'lost'> => {
    const term = new AbortController();
    const hardStop = new AbortController();
    // Every in-flight request and retry wait listens on it.
    setMaxListeners(0, hardStop.signal);
    const d = new Deliverer({
      relay: name,
      state: store,
      metrics,
      log,
      maxInFlight: config.delivery?.maxInFlight ?? 1000,
      hardStop: hardStop.signal,
    });
    deliverer = d;
    const checkpointer = new Checkpointer(
      d,
      store,
      metrics,
      log,
      () => !leaseEnabled || lease.held,
    );
    const ctx: SourceContext = {
      relay: name,
      state: store,
      deliverer: d,
      routing,
      metrics,
      log,
      signal: term.signal,
      heartbeatMs: config.checkpoints?.heartbeatMs ?? 10_000,
      baseDir: config.baseDir,
    };
    let source: RelaySource | undefined;
    let eventStore: EventStore | undefined;
    const lost = leaseEnabled ? lease.lost() : new Promise<string>(() => undefined);
    const stopped = new Promise<void>((resolve) =>
      stopping.signal.addEventListener('abort', () => resolve(), { once: true }),
    );
    let outcome: 'stopped' | 'lost' = 'stopped';
    let error: unknown;
    try {
      if ('mongodb' in config.source) {
        const { createMongoSource } = await import('./relayMongoSource.js');
        source = await createMongoSource(config.source.mongodb, ctx);
      } else {
        const { createEventloomSource, openEventStore } = await import('./relayEventloomSource.js');
        eventStore = (await openEventStore(config.source.eventloom, config.baseDir)).store;
        source = await createEventloomSource(config.source.eventloom, eventStore, ctx);
      }
      checkpointer.start(config.checkpoints?.intervalMs ?? 1000);
      state = 'active';
      metrics.active = true;
      log.info({ owner }, 'relay active');
      const result = await Promise.race([
        source.done.then(() => 'stopped' as const),
        stopped.then(() => 'stopped' as const),
        lost.then((reason) => {
          log.error({ reason }, 'lease lost; stopping deliveries and standing by');
          return 'lost' as const;
        }),
      ]);
      outcome = result;
    } catch (e) {
      error = e;
    } finally {
      if (outcome === 'stopped' && error === undefined) stoppingSince ??= Date.now();
      metrics.active = false;
      if (state !== 'failed') state = 'stopping';
      term.abort();
      await source?.stop();
      const timeoutMs = config.delivery?.shutdownTimeoutMs ?? 30_000;
      if (!(await d.drain(timeoutMs))) {
        log.warn(
          {
            inFlight: d.inFlight,
          },
          'shutdown timeout: unfinished deliveries will be redelivered after restart',
        );
        hardStop.abort();
        await d.drain(5000);
      }
      checkpointer.stop();
      if (outcome !== 'lost') await checkpointer.flush();
      await source?.close();
      if (eventStore && !source) await eventStore.close();
    }
    if (error !== undefined) throw error as Error;
    return outcome;
  };

  const run = async (): Promise<void> => {
    try {
      while (!stopping.signal.aborted) {
        if (leaseEnabled) {
          state = 'standby';
          if (!(await lease.acquire(stopping.signal))) break;
        }
        const outcome = await serveTerm();
        if (outcome === 'stopped') break;
      }
      state = 'stopped';
    } catch (error) {
      state = 'failed';
      failure = errorMessage(error);
      log.error({ error: failure }, 'relay failed');
      throw error;
    } finally {
      if (leaseEnabled) await lease.release();
      await factory.close();
      await store.close().catch(() => undefined);
    }
  };
  const done = run();
  // Keep /health answering 'failed' until the run settled, for supervisors; then close.
  const finished = done.finally(closeOps).then(() => {
    log.info({ stoppingMs: Date.now() - (stoppingSince ?? Date.now()) }, 'relay stopped');
  });
  finished.catch(() => undefined);

  return {
    name,
    owner,
    port: ops?.port,
    metrics,
    status,
    done: finished,
    async stop() {
      if (!stopping.signal.aborted) {
        stoppingSince ??= Date.now();
        log.info({}, 'relay stopping: finishing in-flight deliveries');
        stopping.abort();
      }
      await finished.catch(() => undefined);
    },
  };
}
