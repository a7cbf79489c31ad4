import {
  ConfigurationError,
  type EventloomError,
  isEventloomError,
  StoreClosedError,
  StoreCorruptedError,
  StoreFailedError,
  StoreUnavailableError,
} from '../core/errors.js';

/** Driver error codes → what they mean for a caller. A table, not scattered ifs. */
const TRANSLATIONS: Record<string, (context: string, path: string) => EventloomError> = {
  SQLITE_BUSY: (ctx, path) =>
    new StoreUnavailableError(
      `${ctx}: the database ${path} stayed locked by another connection past busyTimeoutMs; retry, or raise busyTimeoutMs`,
    ),
  SQLITE_LOCKED: (ctx, path) =>
    new StoreUnavailableError(`${ctx}: a table in ${path} is locked by another statement; retry`),
  SQLITE_CANTOPEN: (ctx, path) =>
    new ConfigurationError(
      `${ctx}: cannot open ${path}; check that its folder exists and is writable (set EVENTLOOM_DATA or the path option)`,
    ),
  SQLITE_READONLY: (ctx, path) =>
    new ConfigurationError(`${ctx}: ${path} is read-only; open it from a writable location`),
  SQLITE_FULL: (ctx, path) =>
    new StoreUnavailableError(`${ctx}: the disk holding ${path} is full; free space and retry`),
  SQLITE_NOTADB: (ctx, path) =>
    new ConfigurationError(
      `${ctx}: ${path} is not an SQLite database; point the store at another file`,
    ),
  SQLITE_CORRUPT: (ctx, path) =>
    new StoreCorruptedError(`${ctx}: ${path} is corrupt; restore it from a backup`),
};

/** Wraps a better-sqlite3 error with context; Eventloom errors pass through unchanged. */
export function translateSqliteError(error: unknown, context: string, path: string): unknown {
  if (isEventloomError(error)) return error;
  // better-sqlite3 checks the folder itself and throws a plain TypeError without a code.
  if (error instanceof TypeError && /directory does not exist/.test(error.message)) {
    return withCause(
      (TRANSLATIONS.SQLITE_CANTOPEN as (c: string, p: string) => EventloomError)(context, path),
      error,
    );
  }
  // Statements on a closed handle throw a plain TypeError without a code, too.
  if (error instanceof TypeError && /database connection is not open/.test(error.message)) {
    const closed = new StoreClosedError(`SQLite database ${path}`);
    closed.message = `${context}: ${closed.message}`;
    return withCause(closed, error);
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return error;
  const base = code.replace(/^(SQLITE_[A-Z]+)(_.*)?$/, '$1');
  const make = TRANSLATIONS[code] ?? TRANSLATIONS[base];
  if (!make) {
    // An unlisted code (a constraint, a misuse) fails the same way again: not retryable.
    return new StoreFailedError(
      `${context}: SQLite failed with ${code}: ${(error as Error).message}. Retrying will not help; see the cause`,
      { cause: error },
    );
  }
  return withCause(make(context, path), error);
}

function withCause(translated: EventloomError, cause: unknown): EventloomError {
  Object.defineProperty(translated, 'cause', {
    value: cause,
    enumerable: false,
    configurable: true,
  });
  return translated;
}

export function isUniqueViolation(error: unknown, column: string): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  return (
    typeof e?.code === 'string' &&
    e.code.startsWith('SQLITE_CONSTRAINT') &&
    typeof e.message === 'string' &&
    e.message.includes(column)
  );
}
