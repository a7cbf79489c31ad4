import type { Logger } from '../core/logger.js';
import type { Deliverer } from './relayDelivery.js';
import type { RelayMetrics } from './relayMetrics.js';
import type { Routing } from './relayRouting.js';
import type { RelayStateStore } from './relayStateStore.js';

/** What a source needs from the relay. */
export interface SourceContext {
  relay: string;
  state: RelayStateStore;
  deliverer: Deliverer;
  routing: Routing;
  metrics: RelayMetrics;
  log: Logger;
  /** Aborted when the source must stop reading. */
  signal: AbortSignal;
  heartbeatMs: number;
  baseDir: string;
}

/** A running source: reads changes and dispatches them until stopped. */
export interface RelaySource {
  /** Settles when the source stopped; rejects when it failed (e.g. history lost, policy fail). */
  readonly done: Promise<void>;
  /** Stops reading (in-flight deliveries go on) and waits for the readers to finish. */
  stop(): Promise<void>;
  /** Releases connections; after stop() and the final checkpoint. */
  close(): Promise<void>;
}
