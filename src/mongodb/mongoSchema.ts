import type { Collection, Db } from 'mongodb';

/**
 * One document per append (a "commit"): the unit MongoDB writes atomically without a
 * transaction. `_id` is the commit's first global position. A commit stores its events
 * inline, so a stream has no size ceiling (it is many commits), while one append is bounded
 * by MongoDB's 16 MB document limit.
 */
export interface CommitDoc {
  _id: number;
  lastPosition: number;
  streamId: string;
  firstVersion: number;
  lastVersion: number;
  /** Every version in the commit: the unique (streamId, versions) index makes overlaps impossible. */
  versions: number[];
  /** Every event id in the commit: the unique index makes re-appends detectable. */
  eventIds: string[];
  events: { id: string; type: string; data: unknown; metadata: Record<string, unknown> }[];
  recordedAt: Date;
}

/** A range of positions that will never hold events (a failed or abandoned append). */
export interface GapDoc {
  _id: number;
  lastPosition: number;
  gap: true;
}

export type LogDoc = CommitDoc | GapDoc;

export interface StreamMetaDoc {
  _id: string;
  deletedUpTo: number;
}

export interface CounterDoc {
  _id: string;
  value: number;
}

export interface CheckpointDoc {
  _id: string;
  position: number;
  updatedAt: Date;
  /** Writes staged by a projection commit that has not finished applying (see mongoDocumentStore). */
  pending?: { position: number; writes: unknown[] } | null;
}

export interface ParkedDoc {
  _id: string;
  subscription: string;
  eventId: string;
  position: number;
  event: Record<string, unknown>;
  reason: string;
  attempts: number;
  parkedAt: Date;
}

export interface SnapshotDoc {
  _id: string;
  version: number;
  schemaVersion: number;
  state: unknown;
  takenAt: Date;
}

export interface MongoCollections {
  log: Collection<LogDoc>;
  streams: Collection<StreamMetaDoc>;
  counters: Collection<CounterDoc>;
  checkpoints: Collection<CheckpointDoc>;
  parked: Collection<ParkedDoc>;
  snapshots: Collection<SnapshotDoc>;
}

export const INDEX = {
  streamVersions: 'stream_versions',
  eventIds: 'event_ids',
  lastPosition: 'last_position',
  streamLastVersion: 'stream_last_version',
} as const;

export function collectionsOf(db: Db, prefix: string): MongoCollections {
  return {
    log: db.collection<LogDoc>(`${prefix}_log`),
    streams: db.collection<StreamMetaDoc>(`${prefix}_streams`),
    counters: db.collection<CounterDoc>(`${prefix}_counters`),
    checkpoints: db.collection<CheckpointDoc>(`${prefix}_checkpoints`),
    parked: db.collection<ParkedDoc>(`${prefix}_parked`),
    snapshots: db.collection<SnapshotDoc>(`${prefix}_snapshots`),
  };
}

/** Creates the indexes if missing. Idempotent; safe when several processes start at once. */
export async function ensureIndexes(c: MongoCollections): Promise<void> {
  await c.log.createIndexes([
    // Gap documents have neither field, and sparse keeps them out of the unique indexes.
    { key: { streamId: 1, versions: 1 }, name: INDEX.streamVersions, unique: true, sparse: true },
    { key: { eventIds: 1 }, name: INDEX.eventIds, unique: true, sparse: true },
    { key: { lastPosition: 1 }, name: INDEX.lastPosition, unique: true },
    // Unique in fact (one commit per last version of a stream); declared unique so that
    // servers which only plan queries on unique indexes (the test stand-in) use it too.
    {
      key: { streamId: 1, lastVersion: 1 },
      name: INDEX.streamLastVersion,
      unique: true,
      sparse: true,
    },
  ]);
  await c.parked.createIndexes([
    { key: { subscription: 1, position: 1 }, name: 'subscription_position' },
  ]);
}
