import type { Database } from 'better-sqlite3';

/** Bumped when the tables change; stored in `PRAGMA user_version`. */
export const SCHEMA_VERSION = 1;

const DDL = `
CREATE TABLE IF NOT EXISTS eventloom_events (
  position    INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id    TEXT    NOT NULL UNIQUE,
  stream_id   TEXT    NOT NULL,
  version     INTEGER NOT NULL,
  type        TEXT    NOT NULL,
  data        TEXT    NOT NULL,
  metadata    TEXT    NOT NULL,
  recorded_at INTEGER NOT NULL,
  UNIQUE (stream_id, version)
);
CREATE TABLE IF NOT EXISTS eventloom_streams (
  stream_id     TEXT    PRIMARY KEY,
  version       INTEGER NOT NULL,
  deleted_up_to INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS eventloom_checkpoints (
  name       TEXT    PRIMARY KEY,
  position   INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS eventloom_parked (
  subscription TEXT    NOT NULL,
  event_id     TEXT    NOT NULL,
  position     INTEGER NOT NULL,
  event        TEXT    NOT NULL,
  reason       TEXT    NOT NULL,
  attempts     INTEGER NOT NULL,
  parked_at    INTEGER NOT NULL,
  PRIMARY KEY (subscription, event_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS eventloom_snapshots (
  stream_id      TEXT    PRIMARY KEY,
  version        INTEGER NOT NULL,
  schema_version INTEGER NOT NULL,
  state          TEXT    NOT NULL,
  taken_at       INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS eventloom_documents (
  collection TEXT NOT NULL,
  id         TEXT NOT NULL,
  doc        TEXT NOT NULL,
  PRIMARY KEY (collection, id)
) WITHOUT ROWID;
`;

/**
 * Creates the tables if missing. Idempotent and safe when several processes open the same
 * file at once (DDL runs in one immediate transaction).
 */
export function ensureSchema(db: Database): void {
  db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    if (current > SCHEMA_VERSION) {
      throw new Error(
        `This database was written by a newer Eventloom (schema ${current}, this one knows ${SCHEMA_VERSION}); upgrade eventloom`,
      );
    }
    db.exec(DDL);
    if (current < SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

export type Durability = 'normal' | 'full';

/** Pragmas every Eventloom connection uses: WAL, a busy timeout for other processes. */
export function configureConnection(
  db: Database,
  durability: Durability,
  busyTimeoutMs: number,
): void {
  db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
  if (!db.memory) db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('foreign_keys = ON');
  // Deleted and overwritten rows (snapshots, read models, data keys) are zeroed on disk.
  db.pragma('secure_delete = ON');
}
