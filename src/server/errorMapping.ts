import { type RejectionReason, rejectionOf } from '../app/index.js';
import {
  isConcurrencyError,
  isNotFoundError,
  isStoreClosedError,
  isStoreUnavailableError,
  isStreamDeletedError,
  isValidationError,
} from '../core/index.js';
import { type FieldError, HttpProblem, type ProblemCode } from './problem.js';

/** What each domain rejection is in HTTP: one table, not scattered ifs. */
const REJECTIONS: Record<RejectionReason, ProblemCode> = {
  username_taken: 'conflict',
  email_taken: 'conflict',
  already_exists: 'conflict',
  already_paid: 'conflict',
  not_found: 'not-found',
  forbidden: 'forbidden',
  invalid_credentials: 'forbidden',
  amount_mismatch: 'unprocessable',
  unknown_product: 'unprocessable',
  stale_version: 'precondition-failed',
  out_of_stock: 'conflict',
  reservation_closed: 'conflict',
  reservation_mismatch: 'unprocessable',
  not_reserved: 'conflict',
  order_cancelled: 'conflict',
  invalid_transition: 'conflict',
};

function fieldError(field: string, message: string): FieldError {
  const pointer =
    '/' +
    field
      .replace(/\[(\d+)\]/g, '.$1')
      .split('.')
      .join('/');
  return { pointer, field, message };
}

/**
 * The problem an error means for the client. Anything not known to be the client's doing is
 * a 500 (or 503 when the store is unreachable) — never a 4xx that hides a bug, never a 5xx
 * for the client's mistake.
 */
export function toProblem(error: unknown): HttpProblem {
  if (error instanceof HttpProblem) return error;
  const rejection = rejectionOf(error);
  if (rejection !== undefined) {
    return new HttpProblem(REJECTIONS[rejection.reason], {
      detail: rejection.message,
      extensions: { reason: rejection.reason },
      ...(rejection.field !== undefined
        ? { errors: [fieldError(rejection.field, rejection.message)] }
        : {}),
    });
  }
  if (isConcurrencyError(error)) {
    return new HttpProblem('conflict', {
      detail: `Someone changed this resource at the same time (it is now at version ${error.actualVersion}); reload it and retry`,
      extensions: { reason: 'concurrent_change', current_version: error.actualVersion },
    });
  }
  if (isStreamDeletedError(error)) {
    return new HttpProblem('not-found', { detail: error.message });
  }
  if (isNotFoundError(error)) return new HttpProblem('not-found', { detail: error.message });
  if (isValidationError(error)) {
    return new HttpProblem('validation-failed', {
      detail: error.message,
      errors: [fieldError(error.path, error.message)],
    });
  }
  if (isStoreUnavailableError(error) || isStoreClosedError(error)) {
    return new HttpProblem('unavailable', {
      detail: 'The event store is unavailable; retry shortly',
      headers: { 'retry-after': '1' },
      cause: error,
    });
  }
  return new HttpProblem('internal-error', {
    detail: 'Something went wrong on our side; the request id identifies it in the logs',
    cause: error,
  });
}
