import { ValidationError } from './errors.js';
import { describe } from './validation.js';

/**
 * Metadata keys the library itself reads; everything else in `metadata` is the caller's.
 *
 * - `idempotencyKey`: written by the command handler and the aggregate repository from their
 *   `idempotencyKey` option, and read back to recognise a command that already ran. Callers
 *   never set it through those APIs' `metadata` (rejected there: it would make an unrelated
 *   command look like a replay); a direct append may only store a non-empty string.
 * - `schemaVersion`: the schema version of the event's `data` (absent means 1), read by
 *   upcasting. Checked at append to be an integer >= 1, so no stored event can make a stream
 *   unreadable through upcasting.
 *
 * Written by the library but settable by the caller (so not in the list below):
 * - `traceparent` / `tracestate`: the W3C trace context of the span active at append, stored
 *   when the caller's metadata has no `traceparent` of its own (a caller relaying a message
 *   from another process keeps that message's). Read back by subscriptions, projections,
 *   workflows and the Kafka publisher to continue the trace. Never rejected: a malformed value
 *   makes the reader start a new trace and count it.
 */
export const RESERVED_METADATA_KEYS = ['idempotencyKey', 'schemaVersion'] as const;

/** The append-time checks of the reserved keys, for every store. `path` names the metadata. */
export function checkReservedMetadata(metadata: Record<string, unknown>, path: string): void {
  const schemaVersion = metadata.schemaVersion;
  if (
    schemaVersion !== undefined &&
    (typeof schemaVersion !== 'number' || !Number.isSafeInteger(schemaVersion) || schemaVersion < 1)
  ) {
    throw new ValidationError(
      `${path}.schemaVersion`,
      `must be an integer >= 1 (the schema version of the event's data, read by upcasting); got ${describe(schemaVersion)}`,
    );
  }
  const key = metadata.idempotencyKey;
  if (key !== undefined && (typeof key !== 'string' || key.length === 0)) {
    throw new ValidationError(
      `${path}.idempotencyKey`,
      `is reserved for the command handler's idempotency key and must be a non-empty string; got ${describe(key)}`,
    );
  }
}

/**
 * Rejects `idempotencyKey` in metadata a caller hands to the command handler or repository:
 * there it would be read back as the key of an earlier command.
 */
export function rejectCallerIdempotencyKey(
  metadata: Record<string, unknown> | undefined,
  path: string,
): void {
  if (metadata !== undefined && 'idempotencyKey' in metadata) {
    throw new ValidationError(
      `${path}.idempotencyKey`,
      'is reserved: the library stores the idempotency key there itself. Pass the key as the idempotencyKey option instead, or name your metadata field differently',
    );
  }
}
