import {
  context,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context as TraceContext,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { MiddlewareHandler } from 'hono';
import type { ApiEnv } from './apiEnv.js';
import type { Metrics } from './metrics.js';

const propagator = new W3CTraceContextPropagator();
const headerGetter = {
  keys: (carrier: Headers) => [...carrier.keys()],
  get: (carrier: Headers, key: string) => carrier.get(key) ?? undefined,
};

/**
 * The caller's trace, from a W3C `traceparent` header. A malformed one is counted and the
 * request starts a trace of its own: a tracing header never fails a request. Parsed here,
 * not by the global propagator, so the check holds whether or not the SDK is on.
 */
function callerContext(headers: Headers, metrics: Metrics): TraceContext {
  if (!headers.has('traceparent')) return ROOT_CONTEXT;
  const extracted = propagator.extract(ROOT_CONTEXT, headers, headerGetter);
  if (trace.getSpanContext(extracted) === undefined) {
    metrics.countInvalidTraceContext('http');
    return ROOT_CONTEXT;
  }
  return extracted;
}

/**
 * A SERVER span around each request, named `METHOD route` once the router has matched
 * (`GET /api/shop/orders/:id`). It carries the route, never the path or the query: paths
 * name people and queries may carry secrets, and an exported span is a copy that erasing a
 * person cannot reach. The span is active while the handler runs, so the library's spans
 * (append, publish) are its children and log lines carry its ids.
 */
export function httpTracing(metrics: Metrics): MiddlewareHandler<ApiEnv> {
  const tracer = trace.getTracer('eventloom-server');
  return async (c, next) => {
    const method = c.req.method;
    const parent = callerContext(c.req.raw.headers, metrics);
    const span = tracer.startSpan(
      method,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': method } },
      parent,
    );
    try {
      await context.with(trace.setSpan(parent, span), next);
    } finally {
      const route = (c.get('route') as string | undefined) ?? 'unmatched';
      const status = c.res.status;
      span.updateName(`${method} ${route}`);
      span.setAttributes({ 'http.route': route, 'http.response.status_code': status });
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
  };
}
