import {
  ConfigurationError,
  isEventloomError,
  StoreFailedError,
  StoreUnavailableError,
  ValidationError,
} from '../core/index.js';

/** Node socket errors that mean "the server could not be reached (now)". */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
]);

/**
 * What a SQLSTATE means to a caller, by its class (first two characters) or exact code.
 * Retryable ones become `StoreUnavailableError`; configuration ones say what to fix.
 */
const SQLSTATE: { match: (code: string) => boolean; kind: 'retry' | 'config' | 'input' }[] = [
  { match: (c) => c.startsWith('08'), kind: 'retry' }, // connection exception
  { match: (c) => c.startsWith('53'), kind: 'retry' }, // insufficient resources
  { match: (c) => c === '40001' || c === '40P01', kind: 'retry' }, // serialization, deadlock
  { match: (c) => c === '57P01' || c === '57P02' || c === '57P03', kind: 'retry' }, // shutdown
  { match: (c) => c.startsWith('28'), kind: 'config' }, // invalid authorization
  { match: (c) => c === '3D000' || c === '42501', kind: 'config' }, // no database, no privilege
  { match: (c) => c.startsWith('22'), kind: 'input' }, // data exception (e.g. \u0000 in jsonb)
];

function describeTarget(connection: string | undefined): string {
  if (connection === undefined) return 'PostgreSQL';
  try {
    const url = new URL(connection);
    return `PostgreSQL at ${url.hostname}:${url.port || '5432'}${url.pathname}`;
  } catch {
    return 'PostgreSQL';
  }
}

/**
 * Turns a `pg` driver error into an Eventloom error with context, keeping it as `cause`.
 * The connection string's password never appears in a message.
 */
export function translatePostgresError(
  error: unknown,
  context: string,
  connection?: string,
): Error {
  if (isEventloomError(error)) return error;
  const where = describeTarget(connection);
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (
    (typeof code === 'string' && NETWORK_CODES.has(code)) ||
    /Connection terminated|timeout exceeded|connection timeout/i.test(message)
  ) {
    return new StoreUnavailableError(
      `${context}: ${where} is unreachable (${message}); start it (npm run services:up) or check DATABASE_URL`,
      { cause: error },
    );
  }
  if (typeof code === 'string') {
    const kind = SQLSTATE.find((e) => e.match(code))?.kind;
    if (kind === 'retry') {
      return new StoreUnavailableError(`${context}: ${where} failed transiently: ${message}`, {
        cause: error,
        details: { sqlstate: code },
      });
    }
    if (kind === 'config') {
      return new ConfigurationError(
        `${context}: ${where} refused: ${message}; check DATABASE_URL's user, password and database`,
        { cause: error, details: { sqlstate: code } },
      );
    }
    if (kind === 'input') {
      return new ValidationError(
        'documents',
        `${context}: PostgreSQL rejected a value: ${message}`,
        {
          cause: error,
          details: { sqlstate: code },
        },
      );
    }
  }
  // Anything else fails the same way again: not worth retrying.
  return new StoreFailedError(
    `${context}: ${where} failed: ${message}. Retrying will not help; see the cause`,
    { cause: error },
  );
}
