import { registryCounter, registryGauge, type Registry } from '../node/metricsRegistry.js';

/** Counts and gauges of one relay; a registry reads them when scraped, labelled by relay. */
export class RelayMetrics {
  processed = 0;
  filtered = 0;
  failedAttempts = 0;
  deadLettered = 0;
  historyLost = 0;
  streamErrors = 0;
  checkpointsSaved = 0;
  /** Changes whose source traceparent was not W3C (delivered in a new trace). */
  malformedTraceparent = 0;
  inFlight = 0;
  streams = 0;
  active = false;
  /** Write → acknowledged latency of the last delivered change, seconds. */
  lagSeconds = 0;
  oldestInFlightMs: () => number | undefined = () => undefined;
  readonly startedAt = Date.now();

  constructor(readonly relay = 'relay') {}

  /** The age of the oldest change not yet acknowledged, seconds (0 when none). */
  oldestInFlightSeconds(): number {
    const oldest = this.oldestInFlightMs();
    return oldest === undefined ? 0 : Math.max(0, (Date.now() - oldest) / 1000);
  }
}

type Reading = (m: RelayMetrics) => number;

const COUNTERS: [name: string, help: string, read: Reading][] = [
  ['eventloom_relay_processed_total', 'Changes delivered through every step.', (m) => m.processed],
  ['eventloom_relay_filtered_total', 'Changes dropped by a filter step.', (m) => m.filtered],
  [
    'eventloom_relay_failed_total',
    'Failed step attempts (each retry counts).',
    (m) => m.failedAttempts,
  ],
  [
    'eventloom_relay_dead_lettered_total',
    'Changes moved to the dead-letter store.',
    (m) => m.deadLettered,
  ],
  [
    'eventloom_relay_history_lost_total',
    'Resume points that had fallen off the oplog.',
    (m) => m.historyLost,
  ],
  [
    'eventloom_relay_stream_errors_total',
    'Change stream errors (the stream is reopened).',
    (m) => m.streamErrors,
  ],
  ['eventloom_relay_checkpoints_saved_total', 'Checkpoint writes.', (m) => m.checkpointsSaved],
  [
    'eventloom_relay_malformed_traceparent_total',
    'Changes whose traceparent was not W3C trace context (delivered in a new trace).',
    (m) => m.malformedTraceparent,
  ],
];

const GAUGES: [name: string, help: string, read: Reading][] = [
  ['eventloom_relay_in_flight', 'Changes being delivered now.', (m) => m.inFlight],
  ['eventloom_relay_streams', 'Open change streams / subscriptions.', (m) => m.streams],
  ['eventloom_relay_active', '1 while this process holds the lease.', (m) => (m.active ? 1 : 0)],
  [
    'eventloom_relay_lag_seconds',
    'Source write to acknowledgement of the last delivered change.',
    (m) => m.lagSeconds,
  ],
  [
    'eventloom_relay_oldest_in_flight_seconds',
    'Age of the oldest change not yet acknowledged (0 when none).',
    (m) => m.oldestInFlightSeconds(),
  ],
];

/** The relays each registry reports on (several relays may share one process's registry). */
const relaysOf = new WeakMap<Registry, Set<RelayMetrics>>();

/**
 * Reports `metrics` in `registry` until the returned function is called.
 *
 * @example
 * const unregister = registerRelayMetrics(registry, metrics);
 */
export function registerRelayMetrics(registry: Registry, metrics: RelayMetrics): () => void {
  let relays = relaysOf.get(registry);
  if (relays === undefined) {
    const all = new Set<RelayMetrics>();
    relays = all;
    relaysOf.set(registry, all);
    for (const [name, help, read] of COUNTERS) {
      registryCounter(registry, {
        name,
        help,
        labelNames: ['relay'],
        collect() {
          this.reset();
          for (const m of all) this.inc({ relay: m.relay }, read(m));
        },
      });
    }
    for (const [name, help, read] of GAUGES) {
      registryGauge(registry, {
        name,
        help,
        labelNames: ['relay'],
        collect() {
          this.reset();
          for (const m of all) this.set({ relay: m.relay }, read(m));
        },
      });
    }
  }
  relays.add(metrics);
  const registered = relays;
  return () => void registered.delete(metrics);
}
