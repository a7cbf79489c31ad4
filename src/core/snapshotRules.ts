import { ValidationError } from './errors.js';
import type { Snapshot } from './types.js';
import { assertJsonValue, validateStreamId } from './validation.js';

/**
 * Checks a snapshot before any store writes it, so every store refuses the same bad input
 * with the same message and keeps what it already holds.
 */
export function validateSnapshot(snapshot: Snapshot): void {
  if (typeof snapshot !== 'object' || snapshot === null) {
    throw new ValidationError(
      'snapshot',
      'must be an object { streamId, version, schemaVersion, state, takenAt }',
    );
  }
  validateStreamId(snapshot.streamId, 'snapshot.streamId');
  for (const field of ['version', 'schemaVersion'] as const) {
    const n = snapshot[field];
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
      throw new ValidationError(
        `snapshot.${field}`,
        `must be a non-negative integer, got ${JSON.stringify(n) ?? String(n)}`,
      );
    }
  }
  if (!(snapshot.takenAt instanceof Date) || Number.isNaN(snapshot.takenAt.getTime())) {
    throw new ValidationError('snapshot.takenAt', 'must be a valid Date, e.g. new Date()');
  }
  assertJsonValue(snapshot.state, 'snapshot.state', { allowDates: true });
}

/**
 * Whether `next` may replace `stored`: never an older snapshot of the same schema (a slow
 * writer racing a faster one), always one of another schema (the state's shape changed).
 */
export function supersedes(next: Snapshot, stored: Snapshot | undefined): boolean {
  return (
    stored === undefined ||
    next.schemaVersion !== stored.schemaVersion ||
    next.version >= stored.version
  );
}
