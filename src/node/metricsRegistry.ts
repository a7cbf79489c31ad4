import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  Registry,
  type CounterConfiguration,
  type GaugeConfiguration,
  type HistogramConfiguration,
} from 'prom-client';

export type { Registry };

/**
 * The one Prometheus registry of a process: the default process metrics (CPU, memory, event
 * loop lag, handles) plus what the server, the relay and the Kafka publisher and consumer
 * register in it. `/metrics` renders `registry.metrics()`.
 *
 * @example
 * const metrics = createMetricsRegistry();
 * const server = createServer({ ..., metricsRegistry: metrics });
 * startKafkaPublisher({ store, brokers, metrics });
 */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** Whether `value` looks like a prom-client registry (a second installed copy fails `instanceof`). */
export function isMetricsRegistry(value: unknown): value is Registry {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Registry).registerMetric === 'function' &&
    typeof (value as Registry).getSingleMetric === 'function' &&
    typeof (value as Registry).metrics === 'function'
  );
}

// Two components of one process (two relays, two publishers) share a metric and tell
// themselves apart by label, so a metric already registered under the name is reused.
function reuse<M>(
  registry: Registry,
  name: string,
  kind: abstract new (...args: never[]) => M,
  create: () => M,
): M {
  const found: unknown = registry.getSingleMetric(name);
  return found instanceof kind ? found : create();
}

export function registryCounter<L extends string>(
  registry: Registry,
  config: Omit<CounterConfiguration<L>, 'registers'>,
): Counter<L> {
  return reuse<Counter<L>>(
    registry,
    config.name,
    Counter,
    () => new Counter({ ...config, registers: [registry] }),
  );
}

export function registryGauge<L extends string>(
  registry: Registry,
  config: Omit<GaugeConfiguration<L>, 'registers'>,
): Gauge<L> {
  return reuse<Gauge<L>>(
    registry,
    config.name,
    Gauge,
    () => new Gauge({ ...config, registers: [registry] }),
  );
}

export function registryHistogram<L extends string>(
  registry: Registry,
  config: Omit<HistogramConfiguration<L>, 'registers'>,
): Histogram<L> {
  return reuse<Histogram<L>>(
    registry,
    config.name,
    Histogram,
    () => new Histogram({ ...config, registers: [registry] }),
  );
}
