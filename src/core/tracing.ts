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
  INVALID_SPAN_CONTEXT,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Tracer,
  type ProxyTracerProvider,
} from '@opentelemetry/api';
import type { RecordedEvent } from './types.js';

/** The library's version, reported as the tracer's version (kept in step with package.json). */
export const EVENTLOOM_VERSION = '0.1.0';

const NAME = 'eventloom';

/**
 * The SDK's tracer, or `undefined` when no SDK is registered: then the library skips span
 * work entirely (no span objects, no attribute building, no context switches), which keeps
 * the cost for users who do not trace at one global lookup per operation.
 */
function activeTracer(): Tracer | undefined {
  const provider = trace.getTracerProvider();
  // The API's global is a proxy until an SDK registers; it has no delegate without one.
  if ('getDelegateTracer' in provider && typeof provider.getDelegateTracer === 'function') {
    return (provider as ProxyTracerProvider).getDelegateTracer(NAME, EVENTLOOM_VERSION);
  }
  return provider.getTracer(NAME, EVENTLOOM_VERSION);
}

/** Whether an OpenTelemetry SDK is registered (spans may be recorded). */
export function tracingEnabled(): boolean {
  return activeTracer() !== undefined;
}

const noopTracer = (): Tracer => trace.getTracer(NAME, EVENTLOOM_VERSION);

/**
 * The library's tracer (`eventloom`, the library's version). Without an OpenTelemetry SDK
 * registered, `@opentelemetry/api` hands out no-op spans. It asks the global provider on
 * every span rather than holding one tracer, so a provider registered (or replaced, after
 * `trace.disable()`) later is the one used.
 */
export const tracer: Tracer = {
  startSpan: (name, options, ctx) => (activeTracer() ?? noopTracer()).startSpan(name, options, ctx),
  startActiveSpan: ((...args: Parameters<Tracer['startActiveSpan']>) =>
    ((activeTracer() ?? noopTracer()).startActiveSpan as (...a: unknown[]) => unknown)(
      ...args,
    )) as Tracer['startActiveSpan'],
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

/**
 * The trace context of the active span as event metadata (`traceparent`, maybe
 * `tracestate`), or `undefined` outside any span: what an append stores with its events.
 */
export function activeTraceMetadata(): Record<string, string> | undefined {
  const carrier: Record<string, string> = {};
  return injectTraceparent(carrier) ? carrier : undefined;
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
  const get = (key: string): unknown => carrierValue(carrier, key);

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
  /**
   * Event metadata or message headers to continue the trace of: their `traceparent` becomes
   * the parent (overriding `parent`); without one the span starts a new trace. A malformed
   * one starts a new trace too and calls
   * `onMalformedTraceparent`, even without an SDK so that it is always counted.
   */
  carrier?: Readonly<Record<string, unknown>> | ReadonlyMap<string, unknown>;
  /** Start a new trace whatever span is active (links keep the relations). */
  root?: boolean;
  onMalformedTraceparent?: (value: unknown) => void;
}

const NON_RECORDING = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/**
 * Runs `fn` in a new active span named `name`: ended when `fn` settles, with an error status
 * and the exception recorded when it throws. Without an SDK, `fn` runs directly with a
 * non-recording span.
 */
export function inSpan<T>(
  name: string,
  options: InSpanOptions,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const active = activeTracer();
  let parent = options.parent;
  if (options.carrier !== undefined && (active !== undefined || options.onMalformedTraceparent)) {
    const found = extractTraceparent(options.carrier);
    if (found.malformed)
      options.onMalformedTraceparent?.(carrierValue(options.carrier, TRACEPARENT));
    // A consumer's work belongs to the message's trace, or to a new one: never to whatever
    // span happened to be active when its loop started.
    parent = found.context;
  }
  if (active === undefined) return fn(NON_RECORDING);
  return active.startActiveSpan(
    name,
    { kind: options.kind, links: options.links, root: options.root },
    parent ?? context.active(),
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

/** A carrier's value for `key`, decoded when Kafka hands it out as bytes. */
function carrierValue(
  carrier: Readonly<Record<string, unknown>> | ReadonlyMap<string, unknown> | undefined,
  key: string,
): unknown {
  const value: unknown =
    carrier instanceof Map
      ? (carrier as ReadonlyMap<string, unknown>).get(key)
      : (carrier as Record<string, unknown> | undefined)?.[key];
  return value instanceof Uint8Array ? new TextDecoder().decode(value) : value;
}

/** The attributes naming a recorded event on a span: its id, type, stream and positions. */
export function eventAttributes(event: RecordedEvent): Attributes {
  return {
    'messaging.message.id': event.id,
    'eventloom.event.type': event.type,
    'eventloom.stream.id': event.streamId,
    'eventloom.event.version': event.version,
    'eventloom.position': event.position,
  };
}
