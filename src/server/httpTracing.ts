import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { MiddlewareHandler } from 'hono';
import { extractTraceparent, tracer, tracingEnabled } from '../core/tracing.js';
import type { ApiEnv } from './apiEnv.js';
import type { Metrics } from './metrics.js';

/**
 * A SERVER span around each request, named `METHOD route` once the router has matched
 * (`GET /api/shop/orders/:id`). It carries the route, never the path or the query: paths
 * name people and queries may carry secrets, and an exported span is a copy that erasing a
 * person cannot reach. The span is active while the handler runs, so the library's spans
 * (append, publish) are its children and log lines carry its ids.
 */
export function httpTracing(metrics: Metrics): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const method = c.req.method;
    // A malformed traceparent is counted and the request starts a trace of its own: a
    // tracing header never fails a request.
    const caller = extractTraceparent({ traceparent: c.req.header('traceparent') ?? undefined });
    if (caller.malformed) metrics.countMalformedTraceparent();
    if (!tracingEnabled()) return next();
    const parent = caller.context;
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
