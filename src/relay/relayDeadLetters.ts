import { type Logger, noopLogger } from '../core/logger.js';
import type { RelayConfig } from './relayConfig.js';
import { Deliverer } from './relayDelivery.js';
import { RelayMetrics } from './relayMetrics.js';
import { PipelineFactory } from './relayPipeline.js';
import { Routing } from './relayRouting.js';
import { openRelayState } from './relayRunner.js';
import type { DeadLetter } from './relayStateStore.js';

/** Dead letters of the relay a config names, oldest first. */
export async function listDeadLetters(
  config: RelayConfig,
  options: { limit?: number } = {},
): Promise<DeadLetter[]> {
  const { state } = await openRelayState(config);
  try {
    return await state.listDeadLetters(options);
  } finally {
    await state.close();
  }
}

export interface ReplayResult {
  /** Delivered (or filtered) this time and removed from the store. */
  replayed: string[];
  /** Failed again: still in the store with the new reason. */
  failed: string[];
  /** Their namespace no longer has a pipeline: left in the store. */
  unrouted: string[];
}

/**
 * Runs dead letters through the pipeline the *current* config gives their namespace, with
 * the same idempotency key as before, and removes each one that gets through. Safe to run
 * while the relay is running (delivery is at-least-once anyway).
 */
export async function replayDeadLetters(
  config: RelayConfig,
  options: {
    keys?: readonly string[];
    log?: Logger;
    maxAttempts?: number;
    /** Brokers of a Kafka step that names none. Default 127.0.0.1:9092. */
    kafkaBrokers?: string;
  } = {},
): Promise<ReplayResult> {
  const log = (options.log ?? noopLogger).child({ component: 'relay-dlq', relay: config.name });
  const { state, ownDatabases } = await openRelayState(config);
  const factory = new PipelineFactory({
    baseDir: config.baseDir,
    log,
    ...(options.kafkaBrokers !== undefined ? { kafkaBrokers: options.kafkaBrokers } : {}),
    retry: {
      ...config.delivery?.retry,
      ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
    },
  });
  const result: ReplayResult = { replayed: [], failed: [], unrouted: [] };
  try {
    const routing = await Routing.build(config, factory, ownDatabases);
    const deliverer = new Deliverer({
      relay: config.name,
      state,
      metrics: new RelayMetrics(),
      log,
      maxInFlight: 1,
      hardStop: new AbortController().signal,
    });
    const wanted = options.keys ? new Set(options.keys) : undefined;
    for (const entry of await state.listDeadLetters()) {
      if (wanted && !wanted.has(entry.key)) continue;
      const pipeline = routing.route(entry.message.ns.db, entry.message.ns.coll);
      if (!pipeline) {
        result.unrouted.push(entry.key);
        continue;
      }
      const outcome = await deliverer.deliver(
        {
          key: entry.key,
          orderingKey: entry.orderingKey,
          streamKey: entry.streamKey,
          point: {},
          sourceTimeMs: entry.sourceTimeMs,
          message: entry.message,
        },
        pipeline,
      );
      if (outcome === 'dead-lettered') result.failed.push(entry.key);
      else {
        await state.removeDeadLetter(entry.key);
        result.replayed.push(entry.key);
      }
    }
    return result;
  } finally {
    await factory.close();
    await state.close();
  }
}
