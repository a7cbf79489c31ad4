import {
  createMetricsRegistry,
  registryCounter,
  registryGauge,
  registryHistogram,
  type Registry,
} from '../node/metricsRegistry.js';

/** Buckets of the request latency histogram, in seconds. */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** A gauge whose samples are computed when /metrics is scraped. */
export interface Gauge {
  name: string;
  help: string;
  labelNames: readonly string[];
  samples: { labels: Record<string, string>; value: number }[];
}

export interface Metrics {
  /** The process registry the server's metrics live in (with the default process metrics). */
  readonly registry: Registry;
  observeRequest(method: string, route: string, status: number, seconds: number): void;
  /** `seconds`: how long the append took (`eventloom_append_duration_seconds`). */
  countAppended(category: string, events: number, seconds?: number): void;
  /** A request whose `traceparent` header could not be parsed. */
  countMalformedTraceparent(): void;
  /** The registry in Prometheus text format, with the gauges given at scrape time. */
  render(gauges: readonly Gauge[]): Promise<string>;
}

/**
 * The server's Prometheus metrics in the process registry: requests by route and status,
 * request latency, events appended through this process; gauges (subscription lag, head
 * position) are computed when scraped.
 *
 * @example
 * const registry = createMetricsRegistry();
 * const server = createServer({ ..., metrics: createMetrics(registry) });
 */
export function createMetrics(registry: Registry = createMetricsRegistry()): Metrics {
  const requests = registryCounter(registry, {
    name: 'eventloom_http_requests_total',
    help: 'HTTP requests by route and status.',
    labelNames: ['method', 'route', 'status'],
  });
  const latency = registryHistogram(registry, {
    name: 'eventloom_http_request_duration_seconds',
    help: 'HTTP request latency.',
    labelNames: ['method', 'route'],
    buckets: BUCKETS,
  });
  const appended = registryCounter(registry, {
    name: 'eventloom_events_appended_total',
    help: 'Events appended through this process.',
    labelNames: ['category'],
  });
  const appendDuration = registryHistogram(registry, {
    name: 'eventloom_append_duration_seconds',
    help: 'Latency of successful appends through this process, by stream category.',
    labelNames: ['category'],
    buckets: BUCKETS,
  });
  const malformedTraceparent = registryCounter(registry, {
    name: 'eventloom_http_malformed_traceparent_total',
    help: 'Requests with a malformed traceparent header (each started a new trace).',
  });

  return {
    registry,
    observeRequest(method, route, status, seconds) {
      requests.inc({ method, route, status: String(status) });
      latency.observe({ method, route }, seconds);
    },
    countAppended(category, events, seconds) {
      appended.inc({ category }, events);
      if (seconds !== undefined) appendDuration.observe({ category }, seconds);
    },
    countMalformedTraceparent() {
      malformedTraceparent.inc();
    },
    async render(gauges) {
      for (const { name, help, labelNames, samples } of gauges) {
        const gauge = registryGauge(registry, { name, help, labelNames: [...labelNames] });
        gauge.reset();
        for (const s of samples) gauge.set(s.labels, s.value);
      }
      return registry.metrics();
    },
  };
}
