/** W3C traceparent, version 00: `00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`. */
const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The trace id an event was appended in (from `metadata.traceparent`), when it has a valid one. */
export function traceIdOf(metadata: Readonly<Record<string, unknown>>): string | undefined {
  const value = metadata.traceparent;
  if (typeof value !== 'string') return undefined;
  const traceId = TRACEPARENT.exec(value)?.[1];
  return traceId === undefined || /^0+$/.test(traceId) ? undefined : traceId;
}

/** The event's `metadata.correlationId`, when it is a non-empty string. */
export function correlationIdOf(metadata: Readonly<Record<string, unknown>>): string | undefined {
  const value = metadata.correlationId;
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
