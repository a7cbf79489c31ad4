import BetterSqlite3 from 'better-sqlite3';
import type { Database } from 'better-sqlite3';
import { StoreClosedError } from '../core/errors.js';
import type { DataKeyRecord, ForgetOutcome, KeyStore, WrappedDataKey } from '../core/keyStore.js';
import { translateSqliteError } from './sqliteErrors.js';
import { configureConnection } from './sqliteSchema.js';

interface KeyRow {
  subject: string;
  key_id: string | null;
  kek_id: string | null;
  wrapped_key: Uint8Array | null;
  created_at: number | null;
  forgotten_at: number | null;
}

const DDL = `CREATE TABLE IF NOT EXISTS eventloom_data_keys (
  subject      TEXT    PRIMARY KEY,
  key_id       TEXT,
  kek_id       TEXT,
  wrapped_key  BLOB,
  created_at   INTEGER,
  forgotten_at INTEGER
) WITHOUT ROWID`;

export interface SqliteKeyStoreOptions {
  /** A database file of its own; or pass the event store's `database` to share its file. */
  path: string;
}

const toRecord = (r: KeyRow): DataKeyRecord =>
  r.forgotten_at !== null
    ? { state: 'forgotten', subject: r.subject, forgottenAt: new Date(r.forgotten_at) }
    : {
        state: 'active',
        subject: r.subject,
        keyId: r.key_id!,
        kekId: r.kek_id!,
        wrappedKey: Uint8Array.from(r.wrapped_key!),
        createdAt: new Date(r.created_at!),
      };

/**
 * Per-subject data keys in SQLite, in table `eventloom_data_keys`. A forget overwrites the
 * wrapped key with zeros on disk (`secure_delete`) and checkpoints the WAL with TRUNCATE,
 * so neither the database file nor the WAL keeps the destroyed key.
 *
 * @example
 * const store = createSqliteEventStore({ path: './data/events.db' });
 * const keyStore = createSqliteKeyStore(store.database); // same file, same connection
 */
export function createSqliteKeyStore(target: Database | SqliteKeyStoreOptions): KeyStore {
  const owns = !(target instanceof BetterSqlite3);
  const path = target instanceof BetterSqlite3 ? target.name : target?.path;
  let db: Database;
  try {
    if (target instanceof BetterSqlite3) {
      db = target;
    } else {
      db = new BetterSqlite3(target.path);
      configureConnection(db, 'normal', 5000);
    }
    // Deleted or overwritten bytes are zeroed, not left in free space.
    db.pragma('secure_delete = ON');
    db.exec(DDL);
  } catch (error) {
    throw translateSqliteError(error, 'Opening the SQLite key store', path);
  }
  let closed = false;
  const get = db.prepare('SELECT * FROM eventloom_data_keys WHERE subject = ?');
  const insert = db.prepare(
    `INSERT INTO eventloom_data_keys (subject, key_id, kek_id, wrapped_key, created_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (subject) DO NOTHING`,
  );
  const rewrap = db.prepare(
    `UPDATE eventloom_data_keys SET kek_id = ?, wrapped_key = ?
     WHERE subject = ? AND key_id = ? AND kek_id = ? AND forgotten_at IS NULL`,
  );
  const list = db.prepare(
    'SELECT * FROM eventloom_data_keys WHERE forgotten_at IS NULL AND kek_id <> ? LIMIT ?',
  );
  const forget = db.prepare(
    `UPDATE eventloom_data_keys SET key_id = NULL, kek_id = NULL, wrapped_key = NULL, created_at = NULL, forgotten_at = ?
     WHERE subject = ? AND forgotten_at IS NULL`,
  );
  const run = <T>(what: string, f: () => T): Promise<T> =>
    Promise.resolve().then(() => {
      if (closed) throw new StoreClosedError('key store');
      try {
        return f();
      } catch (error) {
        throw translateSqliteError(error, what, db.name);
      }
    });
  const create = db.transaction((key: WrappedDataKey): DataKeyRecord => {
    insert.run(key.subject, key.keyId, key.kekId, key.wrappedKey, key.createdAt.getTime());
    return toRecord(get.get(key.subject) as KeyRow);
  });
  return {
    get: (subject) =>
      run('Reading a data key', () => {
        const row = get.get(subject) as KeyRow | undefined;
        return row === undefined ? undefined : toRecord(row);
      }),
    create: (key) => run('Storing a data key', () => create.immediate(key)),
    rewrap: (subject, expected, next) =>
      run(
        'Re-wrapping a data key',
        () =>
          rewrap.run(next.kekId, next.wrappedKey, subject, expected.keyId, expected.fromKekId)
            .changes === 1,
      ),
    listWrappedByOtherKek: (kekId, limit) =>
      run('Listing data keys', () =>
        (list.all(kekId, limit) as KeyRow[]).map((row) => {
          const { state: _state, ...key } = toRecord(row) as Extract<
            DataKeyRecord,
            { state: 'active' }
          >;
          return key;
        }),
      ),
    forget: (subject, at) =>
      run('Forgetting a data key', (): ForgetOutcome => {
        if (forget.run(at.getTime(), subject).changes === 0) {
          return get.get(subject) === undefined ? 'unknown' : 'already-forgotten';
        }
        // The WAL still holds page images with the wrapped key: copy them into the (zeroed)
        // database file and truncate the WAL. A reader in another connection can hold the
        // checkpoint back; its next forget (or SQLite's own checkpoints) finishes the job.
        if (!db.memory) db.pragma('wal_checkpoint(TRUNCATE)');
        return 'forgotten';
      }),
    close: () => {
      closed = true;
      if (owns) db.close();
      return Promise.resolve();
    },
  };
}
