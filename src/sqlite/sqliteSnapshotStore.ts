import type { Database } from 'better-sqlite3';
import { translatingErrors } from '../core/portErrors.js';
import { validateSnapshot } from '../core/snapshotRules.js';
import type { Snapshot, SnapshotStore } from '../core/types.js';
import { translateSqliteError } from './sqliteErrors.js';
import { ensureSchema } from './sqliteSchema.js';

interface SnapshotRow {
  stream_id: string;
  version: number;
  schema_version: number;
  state: string;
  taken_at: number;
}

/**
 * Snapshots of stream state in SQLite, one row per stream (the newest wins).
 *
 * @example
 * const handle = createCommandHandler({ store, decider, snapshots: { store: store.snapshots, every: 100 } });
 */
export function createSqliteSnapshotStore(db: Database): SnapshotStore {
  try {
    return translatingErrors(snapshotStore(db), 'SQLite snapshot store', (error, context) =>
      translateSqliteError(error, context, db.name),
    );
  } catch (error) {
    throw translateSqliteError(error, 'Opening the SQLite snapshot store', db.name);
  }
}

function snapshotStore(db: Database): SnapshotStore {
  ensureSchema(db);
  const load = db.prepare('SELECT * FROM eventloom_snapshots WHERE stream_id = ?');
  // Never let an older snapshot overwrite a newer one written by a racing process.
  const save = db.prepare(
    `INSERT INTO eventloom_snapshots (stream_id, version, schema_version, state, taken_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version, schema_version = excluded.schema_version,
       state = excluded.state, taken_at = excluded.taken_at
     WHERE excluded.version >= eventloom_snapshots.version OR excluded.schema_version <> eventloom_snapshots.schema_version`,
  );
  const del = db.prepare('DELETE FROM eventloom_snapshots WHERE stream_id = ?');
  return {
    load: <S>(streamId: string) =>
      Promise.resolve().then((): Snapshot<S> | undefined => {
        const row = load.get(streamId) as SnapshotRow | undefined;
        if (!row) return undefined;
        return {
          streamId: row.stream_id,
          version: row.version,
          schemaVersion: row.schema_version,
          state: JSON.parse(row.state) as S,
          takenAt: new Date(row.taken_at),
        };
      }),
    save: (s) =>
      Promise.resolve().then(() => {
        validateSnapshot(s);
        save.run(
          s.streamId,
          s.version,
          s.schemaVersion,
          JSON.stringify(s.state),
          s.takenAt.getTime(),
        );
      }),
    delete: (streamId) =>
      Promise.resolve().then(() => {
        del.run(streamId);
      }),
  };
}
