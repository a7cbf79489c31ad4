import type { Db } from 'mongodb';
import {
  ConfigurationError,
  isEventloomError,
  StoreFailedError,
  StoreUnavailableError,
  ValidationError,
} from '../core/errors.js';

/** MongoDB's duplicate-key error code. */
export const DUPLICATE_KEY = 11000;

export function isDuplicateKey(error: unknown): boolean {
  const e = error as { code?: unknown; writeErrors?: { code?: unknown }[] } | null;
  return (
    e?.code === DUPLICATE_KEY || (e?.writeErrors?.some((w) => w.code === DUPLICATE_KEY) ?? false)
  );
}

/**
 * Whether a failed write certainly left nothing behind: the driver never sent it (it could
 * not encode it), or the server answered with an error (a single-document insert is all or
 * nothing). A network error or timeout leaves the outcome unknown.
 */
export function definitelyNotWritten(error: unknown): boolean {
  const e = error as { name?: unknown; errorResponse?: { writeConcernError?: unknown } } | null;
  if (e?.name === 'BSONError') return true;
  return e?.name === 'MongoServerError' && e.errorResponse?.writeConcernError === undefined;
}

/**
 * The index a duplicate-key error was raised on. Real MongoDB sends `keyPattern`; some
 * wire-compatible servers (the test stand-in) only name the index in the message, so both
 * are read.
 */
export function duplicateKeyIndex(error: unknown): string | undefined {
  const e = error as {
    keyPattern?: Record<string, unknown>;
    message?: unknown;
    errorResponse?: { keyPattern?: Record<string, unknown> };
  } | null;
  const pattern = e?.keyPattern ?? e?.errorResponse?.keyPattern;
  if (pattern) return Object.keys(pattern).join(',');
  const m = typeof e?.message === 'string' ? /index: (\S+) dup key/.exec(e.message) : null;
  return m?.[1];
}

const NETWORK_ERRORS = new Set([
  'MongoServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoTopologyClosedError',
  'MongoNotConnectedError',
]);

/** Server error codes that a retry may cure (elections, shutdowns, interrupted operations). */
const RETRYABLE_SERVER_CODES = new Set([
  6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436,
]);

/**
 * Wraps a driver error with what was being done and what to do about it. Eventloom errors
 * pass through unchanged.
 */
export function translateMongoError(error: unknown, context: string, hosts: string): unknown {
  if (isEventloomError(error)) return error;
  const e = error as { name?: string; code?: unknown; message?: string } | null;
  const name = e?.name ?? '';
  const message = e?.message ?? String(error);
  if (NETWORK_ERRORS.has(name)) {
    return new StoreUnavailableError(
      `${context}: cannot reach MongoDB at ${hosts} (${message}). Is the server running and reachable? Check MONGODB_URL / the url option`,
      { cause: error },
    );
  }
  if (
    name === 'MongoParseError' ||
    name === 'MongoInvalidArgumentError' ||
    name === 'MongoAPIError'
  ) {
    return new ConfigurationError(`${context}: ${message}`, { cause: error });
  }
  if (name === 'MongoServerError' && (e?.code === 13 || e?.code === 18 || e?.code === 8000)) {
    return new ConfigurationError(
      `${context}: MongoDB at ${hosts} refused the credentials or the operation (${message}); check the user and its roles in the connection string`,
      { cause: error },
    );
  }
  if (name === 'BSONError' || (name === 'MongoServerError' && (e?.code === 2 || e?.code === 52))) {
    return new ValidationError('events', `cannot be stored in MongoDB: ${message}`, {
      cause: error,
    });
  }
  if (
    (typeof e?.code === 'number' && RETRYABLE_SERVER_CODES.has(e.code)) ||
    hasRetryableLabel(error)
  ) {
    return new StoreUnavailableError(
      `${context}: MongoDB is temporarily unavailable (${message}); retry`,
      { cause: error },
    );
  }
  // Anything else (an unknown server error, or a bug that is not the driver's at all) will
  // fail again the same way: retrying it would turn one failure into an endless loop.
  const what = name.startsWith('Mongo')
    ? `MongoDB failed (${name})`
    : `failed (${name || 'error'})`;
  return new StoreFailedError(
    `${context}: ${what}: ${message}. Retrying will not help; see the cause`,
    { cause: error },
  );
}

/** The driver labels errors that a retry may cure (elections, pool resets). */
function hasRetryableLabel(error: unknown): boolean {
  const labels = (error as { errorLabels?: unknown } | null)?.errorLabels;
  const list = labels instanceof Set ? [...labels] : Array.isArray(labels) ? labels : [];
  return list.some((l) => l === 'RetryableWriteError' || l === 'ResetPool');
}

/** `host:port` list of the client behind a database handle, for messages. */
export function hostsOf(db: Db): string {
  const hosts = (db.client.options as { hosts?: { toString(): string }[] } | undefined)?.hosts;
  return hosts && hosts.length > 0 ? hosts.map(String).join(',') : `database '${db.databaseName}'`;
}

/** `host:port` list of a connection string, for messages (never the credentials). */
export function describeHosts(url: string | undefined): string {
  if (!url) return 'the configured client';
  const m = /^mongodb(?:\+srv)?:\/\/(?:[^@/]*@)?([^/?]+)/.exec(url);
  return m?.[1] ?? 'the configured URL';
}
