import { describe, expect, it } from 'vitest';
import {
  isRetryableError,
  isStoreCorruptedError,
  isStoreFailedError,
  isStoreUnavailableError,
} from '../../src/core/index.js';
import { translateSqliteError } from '../../src/sqlite/sqliteErrors.js';

const sqliteError = (code: string): Error =>
  Object.assign(new Error(`sqlite says ${code}`), { name: 'SqliteError', code });

describe('SQLite error translation', () => {
  it('retries a busy database', () => {
    const translated = translateSqliteError(sqliteError('SQLITE_BUSY'), 'append', 'x.db');
    expect(isStoreUnavailableError(translated)).toBe(true);
  });

  it('reports a corrupt file as corrupted, not as something to retry', () => {
    const translated = translateSqliteError(sqliteError('SQLITE_CORRUPT'), 'read', 'x.db');
    expect(isStoreCorruptedError(translated)).toBe(true);
    expect(isRetryableError(translated)).toBe(false);
  });

  it('does not retry an unlisted error code', () => {
    const cause = sqliteError('SQLITE_MISUSE');
    const translated = translateSqliteError(cause, 'append', 'x.db');
    expect(isStoreFailedError(translated)).toBe(true);
    expect(isRetryableError(translated)).toBe(false);
    expect((translated as Error).cause).toBe(cause);
  });
});

describe('SQLite error translation of a closed handle', () => {
  it('reports a statement on a closed database as StoreClosedError with the driver error as cause', () => {
    const cause = new TypeError('The database connection is not open');
    const translated = translateSqliteError(cause, 'Loading a checkpoint', 'x.db');
    expect(translated).toMatchObject({ code: 'STORE_CLOSED', cause });
    expect((translated as Error).message).toContain('Loading a checkpoint');
    expect(isRetryableError(translated)).toBe(false);
  });
});
