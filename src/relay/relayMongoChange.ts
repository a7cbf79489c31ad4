import { BSON, type ChangeStreamDocument, type Document, Timestamp } from 'mongodb';
import { hashKey, type RelayChange, type ResumePoint, type ChangeMessage } from './relayChange.js';

const ejson = (value: unknown): unknown => BSON.EJSON.serialize(value, { relaxed: true });
export const ejsonString = (value: unknown): string =>
  BSON.EJSON.stringify(value, { relaxed: false });

export function timeOf(ts: Timestamp): { t: number; i: number } {
  return { t: ts.high, i: ts.low };
}

export function toTimestamp(time: { t: number; i: number }): Timestamp {
  return new Timestamp({ t: time.t, i: time.i });
}

/** The key from a resume token: stable for one event across redeliveries and restarts. */
export function keyFromToken(token: Document): string {
  const data = (token as { _data?: unknown })._data;
  return hashKey('mongodb', typeof data === 'string' ? data : ejsonString(token));
}

export function fromMongoChange(doc: ChangeStreamDocument, streamKey: string): RelayChange {
  const token = doc._id as Document;
  const key = keyFromToken(token);
  const raw = doc as Document;
  const ns = (raw.ns as { db?: string; coll?: string } | undefined) ?? {};
  const db = ns.db ?? '';
  const coll = ns.coll ?? '';
  const documentKey = raw.documentKey as Document | undefined;
  const message: ChangeMessage = {
    id: key,
    operationType: String(raw.operationType),
    ns: { db, coll },
  };
  for (const field of [
    'documentKey',
    'fullDocument',
    'fullDocumentBeforeChange',
    'updateDescription',
    'clusterTime',
    'wallTime',
    'to',
  ]) {
    if (raw[field] !== undefined) message[field] = ejson(raw[field]);
  }
  const wall = raw.wallTime instanceof Date ? raw.wallTime.getTime() : undefined;
  const cluster = raw.clusterTime instanceof Timestamp ? raw.clusterTime.high * 1000 : undefined;
  return {
    key,
    orderingKey:
      documentKey === undefined
        ? `${db}.${coll}`
        : `${db}.${coll}:${ejsonString(documentKey._id ?? documentKey)}`,
    streamKey,
    point: { token },
    sourceTimeMs: wall ?? cluster,
    message,
  };
}

export function fromSnapshotDocument(
  doc: Document,
  ns: { db: string; coll: string },
  streamKey: string,
  point: ResumePoint,
  snapshotId: string,
): RelayChange {
  const id = ejsonString(doc._id);
  const key = hashKey('snapshot', snapshotId, `${ns.db}.${ns.coll}`, id);
  return {
    key,
    orderingKey: `${ns.db}.${ns.coll}:${id}`,
    streamKey,
    point,
    sourceTimeMs: undefined,
    message: {
      id: key,
      operationType: 'snapshot',
      ns: { ...ns },
      documentKey: { _id: ejson(doc._id) },
      fullDocument: ejson(doc) as Record<string, unknown>,
    },
  };
}
