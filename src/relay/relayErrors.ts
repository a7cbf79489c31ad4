import { EventloomError, type EventloomErrorOptions } from '../core/errors.js';

/**
 * A pipeline step failed for one change. `retryable: false` sends the change to the
 * dead-letter store at once (a poison change: retrying it unchanged cannot succeed).
 * Custom steps may throw it too.
 *
 * @example
 * throw new RelayStepError('order has no customer', { retryable: false });
 */
export class RelayStepError extends EventloomError {
  readonly retryable: boolean;
  constructor(message: string, options: EventloomErrorOptions & { retryable: boolean }) {
    super('HANDLER_FAILED', message, {
      ...options,
      details: { retryable: options.retryable, ...options.details },
    });
    this.name = 'RelayStepError';
    this.retryable = options.retryable;
  }
}

/**
 * Whether retrying a failed step may help. The table: an error that says
 * `retryable: false` is final; everything else (network errors, timeouts, 5xx, broker
 * errors, unknown errors of custom steps) is retried with backoff.
 */
export function isRetryableStepFailure(error: unknown): boolean {
  if (error !== null && typeof error === 'object' && 'retryable' in error)
    return error.retryable !== false;
  return true;
}

/** HTTP statuses worth retrying; any other non-2xx is a poison answer for that change. */
export const RETRYABLE_HTTP_STATUSES: ReadonlySet<number> = new Set([
  408, 409, 425, 429, 500, 502, 503, 504,
]);
