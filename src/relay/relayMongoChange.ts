import {
  BSON,
  type ChangeStreamDocument,
  type Document,
  Long,
  type ObjectId,
  Timestamp,
} from 'mongodb';
import { hashKey, type RelayChange, type ResumePoint, type ChangeMessage } from './relayChange.js';

/**
 * Relaxed Extended JSON, except that every int64 stays canonical (`{"$numberLong": "…"}`):
 * relaxed EJSON writes int64 as a JSON number, which every ordinary JSON parser (and EJSON's
 * own relaxed parser) rounds to a double beyond 2^53. Read with `promoteLongs: false`, so an
 * int64 field has one shape whatever its value.
 *
 * The common shapes (plain objects, arrays, strings, finite numbers, booleans, dates,
 * ObjectIds, int64) are converted here in one pass: `EJSON.serialize` writes every value
 * as text and parses it back, which was the relay's largest cost per change. Anything else
 * goes to EJSON, so the result is exactly what `EJSON.serialize(…, { relaxed: true })` gives.
 */
export function ejson(value: unknown): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      // JSON has no -0: EJSON's text round trip turns it into 0.
      return Number.isFinite(value) ? (value === 0 ? 0 : value) : slowEjson(value);
    case 'undefined':
      return null;
    case 'object': {
      if (value === null) return null;
      if (Array.isArray(value)) {
        let out: unknown[] | undefined;
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i];
          const converted = ejson(item);
          if (out === undefined) {
            if (Object.is(converted, item)) continue;
            out = value.slice(0, i);
          }
          out.push(converted);
        }
        return out ?? value;
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto === Object.prototype || proto === null) {
        const doc = value as Record<string, unknown>;
        if (doc._bsontype !== undefined) return slowEjson(value);
        // What is already JSON (most of a document) is kept as it is, not copied: the driver's
        // document is the relay's own, and no step changes a message it did not copy.
        const keys = Object.keys(doc);
        let out: Record<string, unknown> | undefined;
        for (let k = 0; k < keys.length; k++) {
          const key = keys[k] as string;
          if (key === '__proto__') return slowEjson(value);
          const converted = ejson(doc[key]);
          if (out === undefined) {
            if (Object.is(converted, doc[key])) continue;
            out = {};
            for (let j = 0; j < k; j++) out[keys[j] as string] = doc[keys[j] as string];
          }
          out[key] = converted;
        }
        return out ?? doc;
      }
      if (value instanceof Date) {
        const ms = value.getTime();
        // EJSON's relaxed range; dates outside it keep the canonical form.
        if (ms > -1 && ms < 253402300800000) {
          const iso = value.toISOString();
          return { $date: value.getUTCMilliseconds() !== 0 ? iso : `${iso.slice(0, -5)}Z` };
        }
        return slowEjson(value);
      }
      const bsonType = (value as { _bsontype?: unknown })._bsontype;
      if (bsonType === 'ObjectId') return { $oid: (value as ObjectId).toHexString() };
      if (bsonType === 'Long') return { $numberLong: (value as Long).toString() };
      if (bsonType === 'Timestamp') {
        const ts = value as Timestamp;
        return { $timestamp: { t: ts.t, i: ts.i } };
      }
      return slowEjson(value);
    }
    default:
      return slowEjson(value);
  }
}

const slowEjson = (value: unknown): unknown =>
  BSON.EJSON.serialize(hasInt64(value) ? exactInt64(value) : value, { relaxed: true });

const isInt64 = (value: unknown): boolean => value instanceof Long && value._bsontype === 'Long';

/** Whether an int64 is anywhere inside (most documents have none: then nothing is copied). */
function hasInt64(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (isInt64(value)) return true;
  if (Array.isArray(value)) return value.some(hasInt64);
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  for (const key in value) if (hasInt64((value as Record<string, unknown>)[key])) return true;
  return false;
}

function exactInt64(value: unknown): unknown {
  // Not `instanceof Long`: a Timestamp is a Long subclass and keeps its own `$timestamp` form.
  if (isInt64(value)) return { $numberLong: (value as Long).toString() };
  if (Array.isArray(value)) return value.map(exactInt64);
  if (value === null || typeof value !== 'object') return value;
  const proto: unknown = Object.getPrototypeOf(value);
  // BSON values (ObjectId, Date, Decimal128, Timestamp, …) are left to EJSON as they are.
  if (proto !== Object.prototype && proto !== null) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, exactInt64(v)]));
}

/** Driver read options for everything that becomes a message (see `ejson`). */
export const MESSAGE_READ_OPTIONS = { promoteLongs: false } as const;
export const ejsonString = (value: unknown): string =>
  BSON.EJSON.stringify(value, { relaxed: false });

export function timeOf(ts: Timestamp): { t: number; i: number } {
  return { t: ts.high, i: ts.low };
}

export function toTimestamp(time: { t: number; i: number }): Timestamp {
  return new Timestamp({ t: time.t, i: time.i });
}

/**
 * `ejsonString` of a document id, written directly for the usual ids (strings, ObjectIds,
 * 32-bit integers): it is part of every change's ordering key.
 */
export function idString(id: unknown): string {
  if (typeof id === 'string') return JSON.stringify(id);
  if (typeof id === 'number' && (id | 0) === id && !Object.is(id, -0))
    return `{"$numberInt":"${id}"}`;
  if ((id as { _bsontype?: unknown } | null)?._bsontype === 'ObjectId')
    return `{"$oid":"${(id as ObjectId).toHexString()}"}`;
  return ejsonString(id);
}

/** The key from a resume token: stable for one event across redeliveries and restarts. */
export function keyFromToken(token: Document): string {
  const data = (token as { _data?: unknown })._data;
  return hashKey('mongodb', typeof data === 'string' ? data : ejsonString(token));
}

/** The change event's fields a message carries (besides id, operationType and ns). */
const MESSAGE_FIELDS = [
  'documentKey',
  'fullDocument',
  'fullDocumentBeforeChange',
  'updateDescription',
  'clusterTime',
  'wallTime',
  'to',
] satisfies string[];

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
  for (const field of MESSAGE_FIELDS) {
    if (raw[field] !== undefined) message[field] = ejson(raw[field]);
  }
  const wall = raw.wallTime instanceof Date ? raw.wallTime.getTime() : undefined;
  const cluster = raw.clusterTime instanceof Timestamp ? raw.clusterTime.high * 1000 : undefined;
  return {
    key,
    orderingKey:
      documentKey === undefined
        ? `${db}.${coll}`
        : `${db}.${coll}:${idString(documentKey._id ?? documentKey)}`,
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
