import { injectTraceparent, parseTraceparent, TRACEPARENT, TRACESTATE } from '../core/tracing.js';
import type { RelayChange } from './relayChange.js';

/**
 * The trace headers of what a step sends on (a webhook, a Kafka message): the active span
 * (the step's, child of the change's) when tracing is on; without an SDK, the source's own
 * traceparent passed through when valid, so the receiver still continues the writer's trace.
 */
export function outgoingTraceHeaders(change: RelayChange): Record<string, string> {
  const headers: Record<string, string> = {};
  if (injectTraceparent(headers)) return headers;
  const source = change.trace;
  if (source !== undefined && parseTraceparent(source[TRACEPARENT]) !== undefined) {
    headers[TRACEPARENT] = source[TRACEPARENT] as string;
    if (source[TRACESTATE] !== undefined) headers[TRACESTATE] = source[TRACESTATE];
  }
  return headers;
}
