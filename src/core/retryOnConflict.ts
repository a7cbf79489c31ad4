import { trace } from '@opentelemetry/api';
import { backoffDelay, sleep } from './async.js';
import type { RetryPolicy, WriteOptions } from './commandOptions.js';
import { isConcurrencyError, isIdempotencyConflictError } from './errors.js';

/** One try at a command, on the state just loaded. */
export interface Attempt<Result> {
  /** The result of an earlier run with the same idempotency key, found among the events read. */
  replay: Result | undefined;
  /** The load started from a snapshot, so an earlier run with the key may sit unseen behind it. */
  fromSnapshot: boolean;
  /**
   * Checks the caller's expected version and the rules, and decides; a failure here is
   * final. Resolves to the write, which may lose a race with a concurrent writer.
   */
  decide(): Promise<() => Promise<Result>>;
}

/**
 * Runs a command with optimistic concurrency: `load` (from a snapshot when `useSnapshot`),
 * decide, write — and when another writer got there first, starts over on fresh state with
 * backoff, up to `policy.maxAttempts` times. A caller-given `expectedVersion` is never
 * retried. A command whose idempotency key is found answers the earlier run's result.
 */
export async function retryOnConflict<Result>(
  policy: RetryPolicy,
  { idempotencyKey: key, expectedVersion }: WriteOptions,
  load: (useSnapshot: boolean) => Promise<Attempt<Result>>,
): Promise<Result> {
  // Before surfacing a failure, make sure it is not just this command having run before
  // (its events hidden behind the snapshot, or appended by a racing duplicate).
  const replayOrThrow = async (error: unknown, reload: boolean): Promise<Result> => {
    if (key !== undefined && reload) {
      const { replay } = await load(false);
      if (replay !== undefined) return replay;
    }
    throw error;
  };

  let conflicted = false;
  for (let attempt = 1; ; attempt++) {
    // After a conflict a keyed command reads the whole stream: the writer that won may be a
    // duplicate of this very command whose events already sit behind a newer snapshot.
    trace.getActiveSpan()?.setAttribute('eventloom.command.attempts', attempt);
    const current = await load(!(conflicted && key !== undefined));
    if (current.replay !== undefined) return current.replay;

    let write: () => Promise<Result>;
    try {
      write = await current.decide();
    } catch (error) {
      return await replayOrThrow(error, current.fromSnapshot);
    }

    try {
      return await write();
    } catch (error) {
      const retryable =
        isConcurrencyError(error) && expectedVersion === undefined && attempt < policy.maxAttempts;
      if (!retryable) {
        const raced = isConcurrencyError(error) || isIdempotencyConflictError(error);
        return await replayOrThrow(error, raced);
      }
      conflicted = true;
      const delayMs = backoffDelay(attempt, policy.backoff);
      // Each lost race is visible on the command's span, with the attempt that lost it.
      trace.getActiveSpan()?.addEvent('concurrency conflict', {
        'eventloom.attempt': attempt,
        'eventloom.retry.delay_ms': delayMs,
        'exception.message': error instanceof Error ? error.message : String(error),
      });
      await sleep(delayMs);
    }
  }
}
