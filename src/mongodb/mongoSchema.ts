import { BSON, type Collection, type Db } from 'mongodb';
import { StoreCorruptedError, ValidationError } from '../core/errors.js';
import type { RecordedEvent } from '../core/types.js';

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

/** MongoDB's largest document (`maxBsonObjectSize`). */
export const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;

/**
 * Refuses a commit that MongoDB would refuse, before any position is allocated for it. JSON
 * size is checked on every store; BSON can be larger (array indexes are stored as keys,
 * every number takes 4 or 8 bytes), so the exact encoded size is checked here.
 */
export function assertFitsOneDocument(commit: CommitDoc): void {
  const bytes = BSON.calculateObjectSize(commit);
  if (bytes > MAX_DOCUMENT_BYTES) {
    throw new ValidationError(
      'events',
      `take ${(bytes / 1024 / 1024).toFixed(1)} MiB as one MongoDB commit document; MongoDB stores at most 16 MiB per append. Split the batch into several appends, or keep large payloads outside the event store and store a reference`,
    );
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The events of a commit document, checked field by field. A document that Eventloom did not
 * write this way (edited by hand, or by a buggy older version) raises a StoreCorruptedError
 * naming it, instead of a TypeError deep in a reader: the log stays readable up to it, and
 * the message says how to repair it.
 */
export function eventsOfCommit(d: LogDoc): RecordedEvent[] {
  const corrupt = (problem: string): never => {
    throw new StoreCorruptedError(
      `The MongoDB event log document with _id ${JSON.stringify(d._id)} is malformed: ${problem}. Readers stop before it. Repair the document, or replace it with a gap marker { _id: ${JSON.stringify(d._id)}, lastPosition: <its lastPosition>, gap: true } to drop its events`,
      { details: { documentId: d._id, position: d._id, problem } },
    );
  };
  if ('gap' in d) return [];
  if (typeof d._id !== 'number' || typeof d.lastPosition !== 'number')
    corrupt('_id and lastPosition must be numbers');
  if (typeof d.streamId !== 'string') corrupt('streamId is not a string');
  if (!Number.isSafeInteger(d.firstVersion)) corrupt('firstVersion is not an integer');
  if (!Array.isArray(d.events) || d.events.length !== d.lastPosition - d._id + 1)
    corrupt('events is not an array with one entry per position');
  const recordedAt =
    d.recordedAt instanceof Date ? d.recordedAt : corrupt('recordedAt is not a date');
  return d.events.map((e: unknown, i): RecordedEvent => {
    if (!isRecord(e) || typeof e.id !== 'string' || typeof e.type !== 'string' || !('data' in e))
      return corrupt(`events[${i}] is not an object { id, type, data, metadata }`);
    if (e.metadata !== undefined && !isRecord(e.metadata))
      return corrupt(`events[${i}].metadata is not an object`);
    return {
      id: e.id,
      streamId: d.streamId,
      type: e.type,
      data: e.data,
      metadata: e.metadata ?? {},
      version: d.firstVersion + i,
      position: d._id + i,
      recordedAt,
    };
  });
}
