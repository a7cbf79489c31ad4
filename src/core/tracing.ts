import {
  type Attributes,
  type Context,
  context,
  createTraceState,
  type Link,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  type SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Tracer,
} from '@opentelemetry/api';

/** The library's version, reported as the tracer's version (kept in step with package.json). */
export const EVENTLOOM_VERSION = '0.1.0';

/**
 * The library's tracer. Without an OpenTelemetry SDK registered, `@opentelemetry/api` hands
 * out a no-op tracer: spans are not recorded and cost a few allocations. It asks the global
 * provider on every span rather than holding one tracer, so a provider registered (or
 * replaced, after `trace.disable()`) later is the one used.
 */
export const tracer: Tracer = {
  startSpan: (name, options, ctx) =>
    trace.getTracer('eventloom', EVENTLOOM_VERSION).startSpan(name, options, ctx),
  startActiveSpan: ((...args: Parameters<Tracer['startActiveSpan']>) =>
    (
      trace.getTracer('eventloom', EVENTLOOM_VERSION).startActiveSpan as (
        ...a: unknown[]
      ) => unknown
    )(...args)) as Tracer['startActiveSpan'],
};

/** The metadata / header keys of the W3C trace context. */
export const TRACEPARENT = 'traceparent';
export const TRACESTATE = 'tracestate';

// W3C Trace Context, level 1: version-traceid-parentid-flags, lowercase hex. A future version
// may append fields after a '-', version ff is invalid, all-zero ids are invalid.
const TRACEPARENT_PATTERN = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);

/**
 * Parses a W3C `traceparent` strictly: the span context it names (marked remote), or
 * `undefined` when the value is not a valid traceparent. `tracestate` is attached when given
 * and well-formed enough for the API to keep.
 *
 * @example
 * parseTraceparent('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01')?.traceId
 */
export function parseTraceparent(value: unknown, tracestate?: unknown): SpanContext | undefined {
  if (typeof value !== 'string') return undefined;
  const match = TRACEPARENT_PATTERN.exec(value);
  if (match === null) return undefined;
  const [, version, traceId, spanId, flags, rest] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string | undefined,
  ];
  // Version 00 has exactly four fields; only later versions may carry more.
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (traceId === ZERO_TRACE_ID || spanId === ZERO_SPAN_ID) return undefined;
  const spanContext: SpanContext = {
    traceId,
    spanId,
    traceFlags: parseInt(flags, 16) & TraceFlags.SAMPLED,
    isRemote: true,
  };
  if (typeof tracestate === 'string' && tracestate.length > 0) {
    spanContext.traceState = createTraceState(tracestate);
  }
  return spanContext;
}

/** The W3C `traceparent` of a span context. */
export function formatTraceparent(spanContext: SpanContext): string {
  const flags = (spanContext.traceFlags & 0xff).toString(16).padStart(2, '0');
  return `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`;
}

/**
 * Writes the trace context of `ctx` (default: the active one) into `carrier` as `traceparent`
 * (and `tracestate` when there is one), unless the carrier already has a `traceparent`: the
 * caller's value wins. Does nothing when there is no valid span context, so without an SDK
 * (or outside any span) carriers stay as they are.
 *
 * @returns whether a traceparent was written.
 */
export function injectTraceparent(
  carrier: Record<string, unknown>,
  ctx: Context = context.active(),
): boolean {
  if (carrier[TRACEPARENT] !== undefined) return false;
  const spanContext = trace.getSpanContext(ctx);
  if (spanContext === undefined || !trace.isSpanContextValid(spanContext)) return false;
  carrier[TRACEPARENT] = formatTraceparent(spanContext);
  const state = spanContext.traceState?.serialize();
  if (state !== undefined && state.length > 0) carrier[TRACESTATE] = state;
  return true;
}

/** What {@link extractTraceparent} found in a carrier. */
export interface ExtractedTrace {
  /** A context whose parent is the carrier's span context; the root context otherwise. */
  context: Context;
  /** The carrier's span context, when it had a valid traceparent. */
  spanContext: SpanContext | undefined;
  /**
   * `true` when the carrier had a `traceparent` that is not valid W3C: the handling starts a
   * new trace, and the component counts it; the message itself is never rejected for it.
   */
  malformed: boolean;
}

/**
 * Reads `traceparent` / `tracestate` from event metadata or message headers (values may be
 * strings or Buffers, as Kafka hands them out). Parsed here, strictly, rather than through the
 * global propagator: without an SDK that propagator is a no-op, and a malformed value must be
 * told apart from an absent one to be counted.
 */
export function extractTraceparent(
  carrier: Readonly<Record<string, unknown>> | ReadonlyMap<string, unknown> | undefined,
): ExtractedTrace {
  const get = (key: string): unknown => {
    const value: unknown =
      carrier instanceof Map
        ? (carrier as ReadonlyMap<string, unknown>).get(key)
        : (carrier as Record<string, unknown> | undefined)?.[key];
    return value instanceof Uint8Array ? new TextDecoder().decode(value) : value;
  };
  const raw = carrier === undefined ? undefined : get(TRACEPARENT);
  if (raw === undefined || raw === null) {
    return { context: ROOT_CONTEXT, spanContext: undefined, malformed: false };
  }
  const spanContext = parseTraceparent(raw, get(TRACESTATE));
  if (spanContext === undefined) {
    return { context: ROOT_CONTEXT, spanContext: undefined, malformed: true };
  }
  return {
    context: trace.setSpanContext(ROOT_CONTEXT, spanContext),
    spanContext,
    malformed: false,
  };
}

/** Options of {@link inSpan}. */
export interface InSpanOptions {
  kind?: SpanKind;
  /** Built only when the span records (an SDK is registered and the trace is sampled). */
  attributes?: () => Attributes;
  links?: Link[];
  /** The parent context; default the active one. */
  parent?: Context;
  /** Start a new trace (ignoring the active span); links keep the relation. */
  root?: boolean;
}

/**
 * Runs `fn` in a new active span named `name`: ended when `fn` settles, with an error status
 * and the exception recorded when it throws.
 */
export function inSpan<T>(
  name: string,
  options: InSpanOptions,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = options.parent ?? context.active();
  return tracer.startActiveSpan(
    name,
    { kind: options.kind, links: options.links, root: options.root },
    parent,
    async (span) => {
      if (options.attributes !== undefined && span.isRecording()) {
        span.setAttributes(options.attributes());
      }
      try {
        return await fn(span);
      } catch (error) {
        if (span.isRecording()) {
          span.recordException(error instanceof Error ? error : String(error));
          span.setStatus({
            code: SpanStatusCode.ERROR,
            message: error instanceof Error ? error.message : String(error),
          });
        }
        throw error;
      } finally {
        span.end();
      }
    },
  );
}
