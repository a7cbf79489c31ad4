import { context, propagation, trace, TraceFlags, type Context } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  NodeTracerProvider,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
  type ReadableSpan,
  type Span,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-node';
import type { Counter } from 'prom-client';
import { ConfigurationError } from '../core/errors.js';
import { registryCounter, type Registry } from './metricsRegistry.js';

export interface TelemetryOptions {
  /** `service.name` when OTEL_SERVICE_NAME is unset, e.g. `eventloom-start`. */
  defaultServiceName: string;
  /** The standard OTEL_* variables; the CLI passes `process.env`. */
  env: Readonly<Record<string, string | undefined>>;
  /** The process registry; `eventloom_trace_spans_dropped_total` is counted in it. */
  metrics: Registry;
  /**
   * Where spans go. Default: OTLP over HTTP (JSON) to OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT,
   * and only when one of them is set. Tests pass an in-memory exporter.
   */
  exporter?: SpanExporter;
  /** Spans waiting for export at most (OTEL_BSP_MAX_QUEUE_SIZE, default 2048); more are dropped. */
  maxQueueSize?: number;
}

export interface Telemetry {
  /** Whether spans are recorded and exported in this process. */
  readonly enabled: boolean;
  /** Exports what is queued now. */
  flush(): Promise<void>;
  /** Exports what is queued and unregisters the SDK; gives up after `timeoutMs` (default 5 s). */
  shutdown(timeoutMs?: number): Promise<void>;
}

const DEFAULT_MAX_QUEUE_SIZE = 2048;

/** Whether the standard variables ask for traces to be exported. */
export function tracingRequested(env: Readonly<Record<string, string | undefined>>): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  if (env.OTEL_TRACES_EXPORTER?.trim().toLowerCase() === 'none') return false;
  return Boolean(
    env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim(),
  );
}

const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;

/**
 * OTEL_TRACES_SAMPLER (+ OTEL_TRACES_SAMPLER_ARG for the ratio samplers), default
 * `parentbased_always_on`. Read here rather than by the SDK (which reads `process.env` and
 * falls back silently): a typo stops the process with what to write instead.
 */
export function samplerFromEnv(env: Readonly<Record<string, string | undefined>>): Sampler {
  const name = env.OTEL_TRACES_SAMPLER?.trim().toLowerCase() || 'parentbased_always_on';
  if (!(SAMPLERS as readonly string[]).includes(name)) {
    throw new ConfigurationError(
      `OTEL_TRACES_SAMPLER '${env.OTEL_TRACES_SAMPLER}' is not one of ${SAMPLERS.join(', ')}; set one of them or unset it (default parentbased_always_on)`,
      { details: { variable: 'OTEL_TRACES_SAMPLER', value: env.OTEL_TRACES_SAMPLER } },
    );
  }
  const ratio = (): number => {
    const arg = env.OTEL_TRACES_SAMPLER_ARG?.trim();
    const value = arg ? Number(arg) : 1;
    if (!Number.isFinite(value) || value < 0 || value > 1) {
      throw new ConfigurationError(
        `OTEL_TRACES_SAMPLER_ARG '${arg}' is not a ratio between 0 and 1 (the share of traces kept, e.g. 0.1)`,
        { details: { variable: 'OTEL_TRACES_SAMPLER_ARG', value: arg } },
      );
    }
    return value;
  };
  const root = name.endsWith('always_on')
    ? new AlwaysOnSampler()
    : name.endsWith('always_off')
      ? new AlwaysOffSampler()
      : new TraceIdRatioBasedSampler(ratio());
  return name.startsWith('parentbased_') ? new ParentBasedSampler({ root }) : root;
}

/**
 * Counts what the batch processor will drop: a span that ends while `maxQueueSize` spans wait
 * is dropped by the processor, and a batch the exporter fails on (collector down) is lost.
 * The processor keeps its own count private, so the queue is mirrored here.
 */
class DropCountingProcessor implements SpanProcessor {
  private queued = 0;
  private readonly inner: BatchSpanProcessor;

  constructor(
    exporter: SpanExporter,
    private readonly maxQueueSize: number,
    private readonly dropped: Counter<'reason'>,
  ) {
    const counting: SpanExporter = {
      export: (spans: ReadableSpan[], done: (result: ExportResult) => void) => {
        this.queued = Math.max(0, this.queued - spans.length);
        exporter.export(spans, (result) => {
          if (result.code !== ExportResultCode.SUCCESS) {
            this.dropped.inc({ reason: 'export_failed' }, spans.length);
          }
          done(result);
        });
      },
      shutdown: () => exporter.shutdown(),
      ...(exporter.forceFlush ? { forceFlush: () => exporter.forceFlush!() } : {}),
    };
    this.inner = new BatchSpanProcessor(counting, { maxQueueSize });
  }

  onStart(span: Span, parentContext: Context): void {
    this.inner.onStart(span, parentContext);
  }

  onEnd(span: ReadableSpan): void {
    if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) !== 0) {
      if (this.queued >= this.maxQueueSize) this.dropped.inc({ reason: 'queue_full' });
      else this.queued += 1;
    }
    this.inner.onEnd(span);
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}

async function createOtlpExporter(): Promise<SpanExporter> {
  // Loaded on use: the exporter and its HTTP agent stay out of processes that do not trace.
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
  return new OTLPTraceExporter();
}

/**
 * Turns the OpenTelemetry Node SDK on when the standard variables ask for it
 * (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT; OTEL_SERVICE_NAME;
 * OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG, which the SDK reads itself): a batch
 * processor with a bounded queue, OTLP over HTTP, the W3C trace-context propagator and an
 * async-hooks context. Otherwise nothing is registered and the library's spans are no-ops.
 * Export never blocks a command: spans that do not fit the queue or fail to export are
 * counted in `eventloom_trace_spans_dropped_total{reason}`.
 *
 * @example
 * const telemetry = await startTelemetry({ defaultServiceName: 'eventloom-start', env: process.env, metrics });
 * // … on SIGTERM:
 * await telemetry.shutdown();
 */
export async function startTelemetry(options: TelemetryOptions): Promise<Telemetry> {
  const dropped = registryCounter(options.metrics, {
    name: 'eventloom_trace_spans_dropped_total',
    help: 'Spans not exported: the export queue was full, or the exporter failed.',
    labelNames: ['reason'],
  });
  if (options.exporter === undefined && !tracingRequested(options.env)) {
    return { enabled: false, flush: () => Promise.resolve(), shutdown: () => Promise.resolve() };
  }
  const sampler = samplerFromEnv(options.env);
  const exporter = options.exporter ?? (await createOtlpExporter());
  const fromEnv = Number(options.env.OTEL_BSP_MAX_QUEUE_SIZE);
  const maxQueueSize =
    options.maxQueueSize ??
    (Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : DEFAULT_MAX_QUEUE_SIZE);
  const serviceName = options.env.OTEL_SERVICE_NAME?.trim() || options.defaultServiceName;
  const provider = new NodeTracerProvider({
    resource: defaultResource().merge(resourceFromAttributes({ 'service.name': serviceName })),
    sampler,
    spanProcessors: [new DropCountingProcessor(exporter, maxQueueSize, dropped)],
  });
  provider.register();
  let stopping: Promise<void> | undefined;
  return {
    enabled: true,
    flush: () => provider.forceFlush(),
    shutdown: (timeoutMs = 5000) =>
      (stopping ??= (async () => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
          timer.unref();
        });
        await Promise.race([provider.shutdown().catch(() => undefined), timeout]);
        clearTimeout(timer);
        trace.disable();
        context.disable();
        propagation.disable();
      })()),
  };
}
