/**
 * Eventloom's error hierarchy. Every error carries a stable machine `code`; use the
 * `isXError()` guards instead of `instanceof`, which breaks when two copies of the package
 * are installed.
 *
 * @example
 * try { await store.appendToStream('user-1', events, { expectedVersion: 3 }) }
 * catch (e) { if (isConcurrencyError(e)) console.log(e.expectedVersion, e.actualVersion) }
 */

const BRAND = Symbol.for('eventloom.error');

export type ErrorCode =
  | 'CONCURRENCY_CONFLICT'
  | 'VALIDATION'
  | 'IDEMPOTENCY_CONFLICT'
  | 'STREAM_NOT_FOUND'
  | 'STREAM_DELETED'
  | 'NOT_FOUND'
  | 'STORE_CLOSED'
  | 'STORE_UNAVAILABLE'
  | 'STORE_CORRUPTED'
  | 'STORE_FAILED'
  | 'COMMAND_REJECTED'
  | 'SUBSCRIPTION_STOPPED'
  | 'HANDLER_FAILED'
  | 'CONFIGURATION'
  | 'TAMPERED_DATA'
  /** A message (mail, webhook…) could not be handed to its recipient's server; retry it. */
  | 'DELIVERY_FAILED';

/** Error codes worth retrying: the operation may succeed if tried again unchanged. */
export const RETRYABLE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'CONCURRENCY_CONFLICT',
  'STORE_UNAVAILABLE',
  'DELIVERY_FAILED',
]);

export interface EventloomErrorOptions {
  cause?: unknown;
  details?: Record<string, unknown>;
}

/** Base class of every error Eventloom throws on purpose. */
export class EventloomError extends Error {
  readonly [BRAND] = true;
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: EventloomErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EventloomError';
    this.code = code;
    this.details = options.details ?? {};
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, ...this.details };
  }
}

/** An append's expected version did not match the stream's actual version. */
export class ConcurrencyError extends EventloomError {
  readonly streamId: string;
  readonly expectedVersion: string | number;
  readonly actualVersion: number;

  constructor(
    streamId: string,
    expectedVersion: string | number,
    actualVersion: number,
    options: EventloomErrorOptions = {},
  ) {
    super(
      'CONCURRENCY_CONFLICT',
      `Stream '${streamId}' is at version ${actualVersion} but the append expected ${String(
        expectedVersion,
      )}; reload the stream and retry the command`,
      { ...options, details: { streamId, expectedVersion, actualVersion, ...options.details } },
    );
    this.name = 'ConcurrencyError';
    this.streamId = streamId;
    this.expectedVersion = expectedVersion;
    this.actualVersion = actualVersion;
  }
}

/** Input was malformed: `path` names the offending field (e.g. `events[2].data.amount`). */
export class ValidationError extends EventloomError {
  readonly path: string;
  constructor(path: string, message: string, options: EventloomErrorOptions = {}) {
    super('VALIDATION', `${path}: ${message}`, {
      ...options,
      details: { path, ...options.details },
    });
    this.name = 'ValidationError';
    this.path = path;
  }
}

/** Re-appended event ids match events already stored, but not at the same place. */
export class IdempotencyConflictError extends EventloomError {
  constructor(message: string, options: EventloomErrorOptions = {}) {
    super('IDEMPOTENCY_CONFLICT', message, options);
    this.name = 'IdempotencyConflictError';
  }
}

export class NotFoundError extends EventloomError {
  constructor(
    message: string,
    code: 'NOT_FOUND' | 'STREAM_NOT_FOUND' = 'NOT_FOUND',
    options: EventloomErrorOptions = {},
  ) {
    super(code, message, options);
    this.name = 'NotFoundError';
  }
}

export class StreamDeletedError extends EventloomError {
  constructor(streamId: string, options: EventloomErrorOptions = {}) {
    super(
      'STREAM_DELETED',
      `Stream '${streamId}' was deleted; append with expectedVersion 'any' or 'no_stream' to start it again`,
      { ...options, details: { streamId, ...options.details } },
    );
    this.name = 'StreamDeletedError';
  }
}

export class StoreClosedError extends EventloomError {
  constructor(what = 'event store') {
    super('STORE_CLOSED', `The ${what} is closed; create a new one to continue`);
    this.name = 'StoreClosedError';
  }
}

/** The backing database could not be reached or failed transiently; retrying may help. */
export class StoreUnavailableError extends EventloomError {
  constructor(message: string, options: EventloomErrorOptions = {}) {
    super('STORE_UNAVAILABLE', message, options);
    this.name = 'StoreUnavailableError';
  }
}

/**
 * Stored data is not in the shape this version of Eventloom writes (edited by hand, or written
 * by other software). Retrying will not help; `details` name the record and what is wrong.
 */
export class StoreCorruptedError extends EventloomError {
  constructor(message: string, options: EventloomErrorOptions = {}) {
    super('STORE_CORRUPTED', message, options);
    this.name = 'StoreCorruptedError';
  }
}

/**
 * The backing database refused an operation for a reason a retry will not cure (an unknown
 * server error, a driver bug, a failed programming assumption). Not retryable: loops stop
 * loudly on it instead of retrying forever; `cause` holds the driver's error.
 */
export class StoreFailedError extends EventloomError {
  constructor(message: string, options: EventloomErrorOptions = {}) {
    super('STORE_FAILED', message, options);
    this.name = 'StoreFailedError';
  }
}

/** A command was refused by the domain (a business rule); retrying will not help. */
export class CommandRejectedError extends EventloomError {
  constructor(message: string, options: EventloomErrorOptions = {}) {
    super('COMMAND_REJECTED', message, options);
    this.name = 'CommandRejectedError';
  }
}

export class ConfigurationError extends EventloomError {
  constructor(message: string, options: EventloomErrorOptions = {}) {
    super('CONFIGURATION', message, options);
    this.name = 'ConfigurationError';
  }
}

export class HandlerFailedError extends EventloomError {
  constructor(message: string, options: EventloomErrorOptions = {}) {
    super('HANDLER_FAILED', message, options);
    this.name = 'HandlerFailedError';
  }
}

/** Encrypted personal data failed authentication: it was altered or moved from elsewhere. */
export class TamperedDataError extends EventloomError {
  constructor(message: string, options: EventloomErrorOptions = {}) {
    super('TAMPERED_DATA', message, options);
    this.name = 'TamperedDataError';
  }
}

export function isEventloomError(e: unknown): e is EventloomError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[BRAND] === true;
}

function hasCode<T extends EventloomError>(e: unknown, ...codes: ErrorCode[]): e is T {
  return isEventloomError(e) && codes.includes(e.code);
}

export const isConcurrencyError = (e: unknown): e is ConcurrencyError =>
  hasCode(e, 'CONCURRENCY_CONFLICT');
export const isValidationError = (e: unknown): e is ValidationError => hasCode(e, 'VALIDATION');
export const isIdempotencyConflictError = (e: unknown): e is IdempotencyConflictError =>
  hasCode(e, 'IDEMPOTENCY_CONFLICT');
export const isNotFoundError = (e: unknown): e is NotFoundError =>
  hasCode(e, 'NOT_FOUND', 'STREAM_NOT_FOUND');
export const isStreamDeletedError = (e: unknown): e is StreamDeletedError =>
  hasCode(e, 'STREAM_DELETED');
export const isStoreClosedError = (e: unknown): e is StoreClosedError => hasCode(e, 'STORE_CLOSED');
export const isStoreUnavailableError = (e: unknown): e is StoreUnavailableError =>
  hasCode(e, 'STORE_UNAVAILABLE');
export const isStoreCorruptedError = (e: unknown): e is StoreCorruptedError =>
  hasCode(e, 'STORE_CORRUPTED');
export const isStoreFailedError = (e: unknown): e is StoreFailedError => hasCode(e, 'STORE_FAILED');
export const isCommandRejectedError = (e: unknown): e is CommandRejectedError =>
  hasCode(e, 'COMMAND_REJECTED');
export const isConfigurationError = (e: unknown): e is ConfigurationError =>
  hasCode(e, 'CONFIGURATION');

export const isTamperedDataError = (e: unknown): e is TamperedDataError =>
  hasCode(e, 'TAMPERED_DATA');

/** True when retrying the same operation may succeed (see {@link RETRYABLE_CODES}). */
export function isRetryableError(e: unknown): boolean {
  return isEventloomError(e) && RETRYABLE_CODES.has(e.code);
}
