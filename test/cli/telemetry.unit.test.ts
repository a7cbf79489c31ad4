import { trace } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import {
  InMemorySpanExporter,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-node';
import { afterEach, describe, expect, it } from 'vitest';
import type { Logger } from '../../src/core/logger.js';
import { createMetricsRegistry } from '../../src/node/metricsRegistry.js';
import { createProcessLogger } from '../../src/node/processLogger.js';
import { startTelemetry, type Telemetry } from '../../src/node/telemetry.js';

let running: Telemetry | undefined;
afterEach(async () => {
  await running?.shutdown();
  running = undefined;
});

async function dropped(registry: ReturnType<typeof createMetricsRegistry>) {
  const metric = await registry.getSingleMetric('eventloom_trace_spans_dropped_total')?.get();
  return Object.fromEntries(
    (metric?.values ?? []).map((v) => [String(v.labels.reason), v.value]),
  ) as Record<string, number>;
}

/** An exporter that never answers until released, like a collector that hangs. */
function stuckExporter(): SpanExporter & { release(): void } {
  const waiting: ((r: ExportResult) => void)[] = [];
  return {
    export: (_spans: ReadableSpan[], done) => void waiting.push(done),
    shutdown: () => Promise.resolve(),
    release: () => {
      for (const done of waiting.splice(0)) done({ code: ExportResultCode.FAILED });
    },
  };
}

describe('process telemetry', () => {
  it('registers nothing and exports nothing when no OTLP endpoint is set', async () => {
    const metrics = createMetricsRegistry();
    running = await startTelemetry({ defaultServiceName: 'eventloom-test', env: {}, metrics });
    expect(running.enabled).toBe(false);
    const span = trace.getTracer('test').startSpan('nothing');
    expect(span.isRecording()).toBe(false);
    span.end();
  });

  it('exports spans with the service name from OTEL_SERVICE_NAME when an exporter is set', async () => {
    const exporter = new InMemorySpanExporter();
    running = await startTelemetry({
      defaultServiceName: 'eventloom-test',
      env: { OTEL_SERVICE_NAME: 'shop-api' },
      metrics: createMetricsRegistry(),
      exporter,
    });
    trace.getTracer('test').startActiveSpan('work', (span) => span.end());
    await running.flush();
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name)).toEqual(['work']);
    expect(spans[0]!.resource.attributes['service.name']).toBe('shop-api');
  });

  it('follows OTEL_TRACES_SAMPLER: always_off records no span', async () => {
    const exporter = new InMemorySpanExporter();
    running = await startTelemetry({
      defaultServiceName: 'eventloom-test',
      env: { OTEL_TRACES_SAMPLER: 'always_off' },
      metrics: createMetricsRegistry(),
      exporter,
    });
    const span = trace.getTracer('test').startSpan('sampled out');
    expect(span.isRecording()).toBe(false);
    span.end();
  });

  it('drops spans beyond the bounded queue and counts them, and counts a failed export', async () => {
    const exporter = stuckExporter();
    const metrics = createMetricsRegistry();
    running = await startTelemetry({
      defaultServiceName: 'eventloom-test',
      env: {},
      metrics,
      exporter,
      maxQueueSize: 4,
    });
    const tracer = trace.getTracer('test');
    // The first 4 go to the (stuck) exporter at once, 4 more wait in the queue, 2 find it full.
    for (let i = 0; i < 10; i += 1) tracer.startSpan(`span ${i}`).end();
    expect((await dropped(metrics)).queue_full).toBe(2);
    exporter.release();
    await running.shutdown(100);
    exporter.release();
    await expect.poll(async () => (await dropped(metrics)).export_failed).toBeGreaterThan(0);
  });

  it('refuses an unknown sampler or a ratio outside 0..1 with the variable to fix', async () => {
    const start = (env: Record<string, string>) =>
      startTelemetry({
        defaultServiceName: 'eventloom-test',
        env,
        metrics: createMetricsRegistry(),
        exporter: new InMemorySpanExporter(),
      });
    await expect(start({ OTEL_TRACES_SAMPLER: 'sometimes' })).rejects.toThrow(
      /OTEL_TRACES_SAMPLER 'sometimes' is not one of always_on/,
    );
    await expect(
      start({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '1.5' }),
    ).rejects.toThrow(/OTEL_TRACES_SAMPLER_ARG '1.5' is not a ratio between 0 and 1/);
  });

  it('puts the active trace and span ids on every log line', async () => {
    running = await startTelemetry({
      defaultServiceName: 'eventloom-test',
      env: {},
      metrics: createMetricsRegistry(),
      exporter: new InMemorySpanExporter(),
    });
    const raw: string[] = [];
    const logger: Logger = createProcessLogger({ write: (line) => raw.push(line) });
    const ids = trace.getTracer('test').startActiveSpan('logged', (span) => {
      logger.child({ component: 'test' }).info({}, 'inside');
      span.end();
      return span.spanContext();
    });
    logger.info({}, 'outside');
    const [inside, outside] = raw.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(inside).toMatchObject({ trace_id: ids.traceId, span_id: ids.spanId });
    expect(outside).not.toHaveProperty('trace_id');
  });
});
