import { context, trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetricsRegistry } from '../../src/node/metricsRegistry.js';
import { startTelemetry, type Telemetry } from '../../src/node/telemetry.js';
import { createMetrics } from '../../src/server/metrics.js';
import { createHarness, type Harness } from './serverHarness.js';

const exporter = new InMemorySpanExporter();
const registry = createMetricsRegistry();
let telemetry: Telemetry;
let h: Harness;

beforeAll(async () => {
  telemetry = await startTelemetry({
    defaultServiceName: 'eventloom-test',
    env: {},
    metrics: registry,
    exporter,
  });
  h = await createHarness({ metrics: createMetrics(registry) });
});
afterAll(async () => {
  await h.close();
  await telemetry.shutdown();
});

const PARENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN = '00f067aa0ba902b7';

async function serverSpans() {
  await telemetry.flush();
  const spans = exporter.getFinishedSpans().filter((s) => s.attributes['http.request.method']);
  exporter.reset();
  return spans;
}

async function invalidCount(): Promise<number> {
  const metric = await registry
    .getSingleMetric('eventloom_http_malformed_traceparent_total')
    ?.get();
  return metric?.values.reduce((sum, v) => sum + v.value, 0) ?? 0;
}

describe('HTTP server spans', () => {
  it('continue the trace of an incoming traceparent and name the route, not the path', async () => {
    const response = await h.request('/api/shop/products?secret=hidden', {
      headers: { traceparent: `00-${PARENT_TRACE}-${PARENT_SPAN}-01` },
    });
    expect(response.status).toBe(200);
    const [span, ...rest] = await serverSpans();
    expect(rest).toEqual([]);
    expect(span!.name).toBe('GET /api/shop/products');
    expect(span!.spanContext().traceId).toBe(PARENT_TRACE);
    expect(span!.parentSpanContext?.spanId).toBe(PARENT_SPAN);
    expect(span!.kind).toBe(1); // SERVER
    expect(span!.attributes).toMatchObject({
      'http.request.method': 'GET',
      'http.route': '/api/shop/products',
      'http.response.status_code': 200,
    });
    expect(JSON.stringify(span!.attributes)).not.toContain('hidden');
  });

  it('start a new trace for a malformed traceparent, answer normally and count it', async () => {
    const before = await invalidCount();
    const response = await h.request('/api/shop/products', {
      headers: { traceparent: '00-not-a-trace-01' },
    });
    expect(response.status).toBe(200);
    const [span] = await serverSpans();
    expect(span!.parentSpanContext).toBeUndefined();
    expect(span!.spanContext().traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(await invalidCount()).toBe(before + 1);
  });

  it('make the request span active while the handler runs, so log lines carry its ids', async () => {
    h.logs.length = 0;
    await h.request('/api/v1/nothing-here', {
      headers: { traceparent: `00-${PARENT_TRACE}-${PARENT_SPAN}-01` },
    });
    const [span] = await serverSpans();
    expect(span!.attributes['http.response.status_code']).toBe(404);
    const lines = h.logs.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.some((l) => l.trace_id === PARENT_TRACE)).toBe(true);
    expect(trace.getSpan(context.active())).toBeUndefined();
  });
});
