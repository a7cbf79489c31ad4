import type { Database } from 'better-sqlite3';
import { translatingErrors } from '../core/portErrors.js';
import type { CheckpointStore, ParkedEvent, RecordedEvent } from '../core/types.js';
import { translateSqliteError } from './sqliteErrors.js';
import { ensureSchema } from './sqliteSchema.js';

interface ParkedRow {
  subscription: string;
  event: string;
  reason: string;
  attempts: number;
  parked_at: number;
}

/**
 * Durable subscription checkpoints and parked (poison) events in SQLite.
 *
 * @example
 * const checkpoints = createSqliteCheckpointStore(db);
 */
export function createSqliteCheckpointStore(db: Database): CheckpointStore {
  try {
    return translatingErrors(checkpointStore(db), 'SQLite checkpoint store', (error, context) =>
      translateSqliteError(error, context, db.name),
    );
  } catch (error) {
    throw translateSqliteError(error, 'Opening the SQLite checkpoint store', db.name);
  }
}

function checkpointStore(db: Database): CheckpointStore {
  ensureSchema(db);
  const load = db.prepare('SELECT position FROM eventloom_checkpoints WHERE name = ?').pluck();
  const save = db.prepare(
    'INSERT INTO eventloom_checkpoints (name, position, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at',
  );
  const reset = db.prepare('DELETE FROM eventloom_checkpoints WHERE name = ?');
  const park = db.prepare(
    'INSERT OR REPLACE INTO eventloom_parked (subscription, event_id, position, event, reason, attempts, parked_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const listAll = db.prepare('SELECT * FROM eventloom_parked ORDER BY position');
  const listOne = db.prepare(
    'SELECT * FROM eventloom_parked WHERE subscription = ? ORDER BY position',
  );
  const unpark = db.prepare('DELETE FROM eventloom_parked WHERE subscription = ? AND event_id = ?');

  const toParked = (row: ParkedRow): ParkedEvent => {
    const event = JSON.parse(row.event) as RecordedEvent & { recordedAt: string };
    return {
      subscription: row.subscription,
      event: { ...event, recordedAt: new Date(event.recordedAt) },
      reason: row.reason,
      attempts: row.attempts,
      parkedAt: new Date(row.parked_at),
    };
  };

  return {
    load: (name) => Promise.resolve().then(() => load.get(name) as number | undefined),
    save: (name, position) =>
      Promise.resolve().then(() => {
        save.run(name, position, Date.now());
      }),
    reset: (name) =>
      Promise.resolve().then(() => {
        reset.run(name);
      }),
    park: (p) =>
      Promise.resolve().then(() => {
        park.run(
          p.subscription,
          p.event.id,
          p.event.position,
          JSON.stringify(p.event),
          p.reason,
          p.attempts,
          p.parkedAt.getTime(),
        );
      }),
    listParked: (subscription) =>
      Promise.resolve().then(() =>
        (
          (subscription === undefined ? listAll.all() : listOne.all(subscription)) as ParkedRow[]
        ).map(toParked),
      ),
    unpark: (subscription, eventId) =>
      Promise.resolve().then(() => {
        unpark.run(subscription, eventId);
      }),
  };
}
