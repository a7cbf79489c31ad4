import { CommandRejectedError, isCommandRejectedError } from '../core/index.js';

/**
 * Why the app refused a command. The HTTP layer maps each reason to a status in one table;
 * `field` names the request field at fault when there is one.
 */
export type RejectionReason =
  | 'username_taken'
  | 'email_taken'
  | 'not_found'
  | 'forbidden'
  | 'invalid_credentials'
  | 'already_exists'
  | 'already_paid'
  | 'amount_mismatch'
  | 'unknown_product'
  | 'stale_version'
  | 'out_of_stock'
  | 'reservation_closed'
  | 'reservation_mismatch'
  | 'not_reserved'
  | 'order_cancelled'
  | 'invalid_transition';

export interface Rejection {
  reason: RejectionReason;
  message: string;
  field?: string;
}

/** A `CommandRejectedError` carrying a machine-readable reason (and the field at fault). */
export function rejected(
  reason: RejectionReason,
  message: string,
  field?: string,
): CommandRejectedError {
  return new CommandRejectedError(message, {
    details: field === undefined ? { reason } : { reason, field },
  });
}

/** The reason of a rejection made by `rejected`, or undefined for any other error. */
export function rejectionOf(error: unknown): Rejection | undefined {
  if (!isCommandRejectedError(error)) return undefined;
  const { reason, field } = error.details as { reason?: unknown; field?: unknown };
  if (typeof reason !== 'string') return undefined;
  return {
    reason: reason as RejectionReason,
    message: error.message,
    ...(typeof field === 'string' ? { field } : {}),
  };
}
