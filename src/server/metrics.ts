/** Buckets of the request latency histogram, in seconds. */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

type Labels = Record<string, string>;

export interface Gauge {
  name: string;
  help: string;
  samples: { labels: Labels; value: number }[];
}

export interface Metrics {
  observeRequest(method: string, route: string, status: number, seconds: number): void;
  countAppended(category: string, events: number): void;
  /** Prometheus text exposition (version 0.0.4) with the gauges given at scrape time. */
  render(gauges: readonly Gauge[]): string;
}

const escapeLabel = (v: string): string =>
  v.replaceAll('\\', '\\\\').replaceAll('\n', '\\n').replaceAll('"', '\\"');
const labelText = (labels: Labels): string => {
  const entries = Object.entries(labels);
  return entries.length === 0
    ? ''
    : `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
};

/**
 * The server's Prometheus metrics, kept in process (no dependency): requests by route and
 * status, request latency, events appended through this process; gauges (subscription lag,
 * head position) are computed when scraped.
 */
export function createMetrics(): Metrics {
  const requests = new Map<string, { labels: Labels; value: number }>();
  const latency = new Map<
    string,
    { labels: Labels; counts: number[]; sum: number; count: number }
  >();
  const appended = new Map<string, number>();

  return {
    observeRequest(method, route, status, seconds) {
      const labels = { method, route, status: String(status) };
      const key = labelText(labels);
      const counter = requests.get(key) ?? { labels, value: 0 };
      counter.value++;
      requests.set(key, counter);
      const hLabels = { method, route };
      const hKey = labelText(hLabels);
      const h = latency.get(hKey) ?? {
        labels: hLabels,
        counts: BUCKETS.map(() => 0),
        sum: 0,
        count: 0,
      };
      for (let i = 0; i < BUCKETS.length; i++)
        if (seconds <= (BUCKETS[i] as number)) h.counts[i]!++;
      h.sum += seconds;
      h.count++;
      latency.set(hKey, h);
    },
    countAppended(category, events) {
      appended.set(category, (appended.get(category) ?? 0) + events);
    },
    render(gauges) {
      const lines: string[] = [];
      lines.push('# HELP eventloom_http_requests_total HTTP requests by route and status.');
      lines.push('# TYPE eventloom_http_requests_total counter');
      for (const { labels, value } of requests.values()) {
        lines.push(`eventloom_http_requests_total${labelText(labels)} ${value}`);
      }
      lines.push('# HELP eventloom_http_request_duration_seconds HTTP request latency.');
      lines.push('# TYPE eventloom_http_request_duration_seconds histogram');
      for (const h of latency.values()) {
        BUCKETS.forEach((le, i) => {
          lines.push(
            `eventloom_http_request_duration_seconds_bucket${labelText({ ...h.labels, le: String(le) })} ${h.counts[i]}`,
          );
        });
        lines.push(
          `eventloom_http_request_duration_seconds_bucket${labelText({ ...h.labels, le: '+Inf' })} ${h.count}`,
        );
        lines.push(`eventloom_http_request_duration_seconds_sum${labelText(h.labels)} ${h.sum}`);
        lines.push(
          `eventloom_http_request_duration_seconds_count${labelText(h.labels)} ${h.count}`,
        );
      }
      lines.push('# HELP eventloom_events_appended_total Events appended through this process.');
      lines.push('# TYPE eventloom_events_appended_total counter');
      for (const [category, value] of appended) {
        lines.push(`eventloom_events_appended_total${labelText({ category })} ${value}`);
      }
      for (const gauge of gauges) {
        lines.push(`# HELP ${gauge.name} ${gauge.help}`);
        lines.push(`# TYPE ${gauge.name} gauge`);
        for (const s of gauge.samples) lines.push(`${gauge.name}${labelText(s.labels)} ${s.value}`);
      }
      return lines.join('\n') + '\n';
    },
  };
}
