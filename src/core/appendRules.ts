import { ConcurrencyError, IdempotencyConflictError } from './errors.js';
import type { AppendResult, ExpectedVersion, StreamInfo } from './types.js';

/**
 * The expected-version rules every store applies, in one place so that memory, SQLite and
 * MongoDB cannot drift apart.
 */
export function checkExpectedVersion(
  streamId: string,
  expected: ExpectedVersion,
  info: Pick<StreamInfo, 'version' | 'exists'>,
): void {
  const ok =
    expected === 'any' ||
    (expected === 'no_stream' && !info.exists) ||
    (expected === 'stream_exists' && info.exists) ||
    (typeof expected === 'number' && expected === info.version);
  if (!ok) throw new ConcurrencyError(streamId, expected, info.version);
}

/** What a store knows about an already-stored event whose id appears in a new append. */
export interface StoredEventRef {
  id: string;
  streamId: string;
  type: string;
  version: number;
  position: number;
  /** The stored `data` as JSON, to tell a retry from a different event under a reused id. */
  data: string;
}

/** The place of a stream an append was checked against. */
export interface StreamPlace {
  version: number;
  /** Versions up to this one were soft-deleted (0 when never deleted). */
  deletedUpTo: number;
}

/**
 * Decides whether an append whose ids already exist is an idempotent re-append (the same
 * events, with the same types and data, at the same place: succeed without writing) or a
 * conflict. Metadata is not compared: a retry may carry a new trace or timestamp.
 *
 * @returns the original append's result, or `undefined` when none of the ids is stored.
 */
export function resolveReappend(
  streamId: string,
  expected: ExpectedVersion,
  batch: readonly { id: string; type: string; data: string }[],
  stored: readonly StoredEventRef[],
  place: StreamPlace,
): AppendResult | undefined {
  if (stored.length === 0) return undefined;
  const byId = new Map(stored.map((e) => [e.id, e]));
  const first = byId.get(batch[0]?.id ?? '');
  const conflict = (eventId: string, why: string): never => {
    throw new IdempotencyConflictError(
      `Append to '${streamId}' reuses event id '${eventId}', already stored ${why}. Give new events new ids, or re-append exactly the same batch at the same place`,
      { details: { streamId, eventId, expectedVersion: expected } },
    );
  };
  const where = (e: StoredEventRef): string => `in stream '${e.streamId}' at version ${e.version}`;
  if (first === undefined) {
    const clash = stored[0] as StoredEventRef;
    return conflict(clash.id, `${where(clash)}, while events[0] of this append is new`);
  }
  for (let i = 0; i < batch.length; i++) {
    const want = batch[i] as { id: string; type: string; data: string };
    const have = byId.get(want.id);
    if (have === undefined) {
      return conflict(first.id, `${where(first)}, while events[${i}] ('${want.id}') is new`);
    }
    if (have.streamId !== streamId || have.version !== first.version + i) {
      return conflict(
        want.id,
        `${where(have)}; events[${i}] of this append does not follow events[0] there`,
      );
    }
    if (have.type !== want.type) {
      return conflict(want.id, `${where(have)} as type '${have.type}', not '${want.type}'`);
    }
    if (have.data !== want.data && !sameJson(have.data, want.data)) {
      return conflict(want.id, `${where(have)} with different data (events[${i}].data differs)`);
    }
  }
  const last = byId.get((batch[batch.length - 1] as { id: string }).id) as StoredEventRef;
  // A no_stream append lands right after the last deletion (or at 1), and deletions only
  // ever move forwards, so the original landed at or before the current deletion point.
  const placeMatches =
    expected === 'any' ||
    expected === 'stream_exists' ||
    (expected === 'no_stream' && first.version - 1 <= place.deletedUpTo) ||
    (typeof expected === 'number' && expected === first.version - 1);
  if (!placeMatches) {
    return conflict(
      first.id,
      `${where(first)}, but this append expected the stream ${
        expected === 'no_stream' ? 'not to exist' : `at version ${String(expected)}`
      }, which would put it at version ${
        typeof expected === 'number' ? expected + 1 : place.deletedUpTo + 1
      } (the stream is at version ${place.version})`,
    );
  }
  return { nextExpectedVersion: last.version, lastPosition: last.position };
}

/**
 * Whether two JSON texts hold the same value. Object keys are unordered in JSON (a payload
 * that went through another serializer or a JSONB column comes back reordered); arrays keep
 * their order. Only called when the texts differ, so the common retry stays a string compare.
 */
function sameJson(a: string, b: string): boolean {
  return jsonEqual(JSON.parse(a) as unknown, JSON.parse(b) as unknown);
}

function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) &&
      Array.isArray(b) &&
      a.length === b.length &&
      a.every((item, i) => jsonEqual(item, b[i]))
    );
  }
  const ka = Object.keys(a);
  const rb = b as Record<string, unknown>;
  return (
    ka.length === Object.keys(b).length &&
    ka.every((k) => Object.hasOwn(rb, k) && jsonEqual((a as Record<string, unknown>)[k], rb[k]))
  );
}
