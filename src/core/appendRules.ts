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
}

/**
 * Decides whether an append whose ids already exist is an idempotent re-append (the same
 * events at the same place: succeed without writing) or a conflict.
 *
 * @returns the original append's result, or `undefined` when none of the ids is stored.
 */
export function resolveReappend(
  streamId: string,
  expected: ExpectedVersion,
  batch: readonly { id: string; type: string }[],
  stored: readonly StoredEventRef[],
  currentVersion: number,
): AppendResult | undefined {
  if (stored.length === 0) return undefined;
  const byId = new Map(stored.map((e) => [e.id, e]));
  const first = byId.get(batch[0]?.id ?? '');
  const conflict = (why: string): never => {
    throw new IdempotencyConflictError(
      `Append to '${streamId}' reuses event ids already stored: ${why}. Give new events new ids, or re-append exactly the same batch`,
      { details: { streamId } },
    );
  };
  if (first === undefined) {
    const clash = stored[0] as StoredEventRef;
    return conflict(
      `'${clash.id}' is already stored at stream '${clash.streamId}' version ${clash.version}`,
    );
  }
  for (let i = 0; i < batch.length; i++) {
    const want = batch[i] as { id: string; type: string };
    const have = byId.get(want.id);
    if (
      have === undefined ||
      have.streamId !== streamId ||
      have.version !== first.version + i ||
      have.type !== want.type
    ) {
      return conflict(
        have === undefined
          ? `events[${i}] ('${want.id}') is new while events[0] is already stored`
          : `events[${i}] ('${want.id}') is stored at stream '${have.streamId}' version ${have.version} as '${have.type}'`,
      );
    }
  }
  const last = byId.get((batch[batch.length - 1] as { id: string }).id) as StoredEventRef;
  const placeMatches =
    expected === 'any' ||
    expected === 'stream_exists' ||
    (expected === 'no_stream' && first.version === 1) ||
    (typeof expected === 'number' && expected === first.version - 1);
  if (!placeMatches) {
    throw new ConcurrencyError(streamId, expected, currentVersion, {
      details: { reason: 'events already appended at a different expected version' },
    });
  }
  return { nextExpectedVersion: last.version, lastPosition: last.position };
}
