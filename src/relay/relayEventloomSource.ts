import { resolve } from 'node:path';
import { storedFormOf } from '../core/cryptoShredding.js';
import type { CheckpointStore, EventStore } from '../core/types.js';
import { fromRecordedEvent } from './relayChange.js';
import type { EventloomSourceConfig } from './relayConfig.js';
import type { RelaySource, SourceContext } from './relaySource.js';

const STREAM_KEY = 'eventloom';

/** Opens the store a `source.eventloom.store` names: a MongoDB URL or a SQLite file. */
export async function openEventStore(
  config: EventloomSourceConfig,
  baseDir: string,
): Promise<{ store: EventStore; url?: string; dbName?: string }> {
  if (/^mongodb(\+srv)?:\/\//.test(config.store)) {
    const url = new URL(config.store);
    const dbName = config.dbName ?? decodeURIComponent(url.pathname.replace(/^\//, ''));
    if (!dbName) {
      const { ConfigurationError } = await import('../core/errors.js');
      throw new ConfigurationError(
        'relay config source.eventloom.store: the MongoDB URL names no database; write mongodb://host/<db> or set source.eventloom.dbName',
      );
    }
    const { createMongoEventStore } = await import('../mongodb/mongoEventStore.js');
    const store = createMongoEventStore({ url: config.store, dbName, onNotice: () => undefined });
    await store.ready();
    return { store, url: config.store, dbName };
  }
  const { createSqliteEventStore } = await import('../sqlite/sqliteEventStore.js');
  return { store: createSqliteEventStore({ path: resolve(baseDir, config.store) }) };
}

/**
 * The Eventloom event store as a relay source: its subscription delivers events in global
 * order; the relay keeps its own checkpoint (the low-water position of acknowledged events)
 * so several events can be in flight while a restart still resumes without a gap.
 */
export async function createEventloomSource(
  config: EventloomSourceConfig,
  store: EventStore,
  ctx: SourceContext,
): Promise<RelaySource> {
  const { deliverer, routing, state, signal } = ctx;
  const namespace = config.namespace ?? 'eventloom';
  const cp = await state.loadCheckpoint(STREAM_KEY);
  const tracker = deliverer.tracker(STREAM_KEY, cp);
  // The subscription reads its start from here; the relay's Checkpointer writes it.
  const checkpoints: CheckpointStore = {
    load: async () => cp?.position,
    save: async () => undefined,
    reset: (name) => store.checkpoints.reset(name),
    park: (entry) => store.checkpoints.park(entry),
    listParked: (name) => store.checkpoints.listParked(name),
    unpark: (name, id) => store.checkpoints.unpark(name, id),
  };
  ctx.metrics.streams++;
  // Personal fields are relayed sealed, as stored: a forget also forgets the copies downstream.
  const subscription = storedFormOf(store).subscribe({
    name: `relay:${ctx.relay}`,
    from: config.from ?? 'start',
    ...(config.eventTypes ? { eventTypes: config.eventTypes } : {}),
    checkpoints,
    onPoison: 'stop',
    retry: { maxAttempts: 1 },
    handler: async (event) => {
      await deliverer.waitForCapacity();
      if (signal.aborted) throw new Error('relay stopping');
      const change = fromRecordedEvent(event, namespace, STREAM_KEY);
      const pipeline = routing.route(change.message.ns.db, change.message.ns.coll);
      if (pipeline) deliverer.dispatch(change, pipeline, tracker);
      else tracker.pushDone(change.point);
    },
  });
  // Events skipped by `eventTypes` never reach the handler: move past them when idle.
  const heartbeat = setInterval(() => {
    const position = subscription.status().position;
    if (tracker.pending() === 0 && position > (tracker.committed?.position ?? -1))
      tracker.pushDone({ position });
  }, ctx.heartbeatMs);
  heartbeat.unref();
  const done = subscription.done.catch((error: unknown) => {
    if (signal.aborted) return;
    throw error;
  });
  done.catch(() => undefined);
  return {
    done,
    async stop() {
      clearInterval(heartbeat);
      await subscription.stop().catch(() => undefined);
      ctx.metrics.streams--;
    },
    async close() {
      await store.close();
    },
  };
}
