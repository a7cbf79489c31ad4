import {
  Binary,
  BSON,
  BSONRegExp,
  Code,
  DBRef,
  Decimal128,
  type Document,
  Int32,
  Long,
  MaxKey,
  MinKey,
  ObjectId,
  Timestamp,
  UUID,
} from 'mongodb';
import { describe, expect, it } from 'vitest';
import { fromMongoChange, MESSAGE_READ_OPTIONS } from '../../src/relay/relayMongoChange.js';

/** What EJSON itself makes of a value, int64 kept canonical (the relay's message format). */
function reference(value: unknown): unknown {
  const canonicalLongs = (v: unknown): unknown => {
    if (v instanceof Long && v._bsontype === 'Long') return { $numberLong: v.toString() };
    if (Array.isArray(v)) return v.map(canonicalLongs);
    if (v === null || typeof v !== 'object') return v;
    const proto: unknown = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return v;
    const out: Record<string, unknown> = {};
    for (const [k, inner] of Object.entries(v)) {
      if (k === '__proto__')
        Object.defineProperty(out, k, { value: canonicalLongs(inner), enumerable: true });
      else out[k] = canonicalLongs(inner);
    }
    return out;
  };
  return BSON.EJSON.serialize(canonicalLongs(value), { relaxed: true });
}

/** A document as the driver hands it to the relay (through BSON, read as the relay reads). */
const viaDriver = (doc: Document): Document =>
  BSON.deserialize(BSON.serialize(doc), MESSAGE_READ_OPTIONS);

describe('change messages', () => {
  it('carry every BSON type exactly as relaxed Extended JSON with canonical int64 writes it', () => {
    const fullDocument = viaDriver({
      _id: new ObjectId('65a1b2c3d4e5f60718293a4b'),
      text: 'caf\u00e9 \ud83d\ude00',
      int: 42,
      int32: new Int32(-7),
      double: 19.99,
      negativeZero: -0,
      nan: NaN,
      infinity: -Infinity,
      bigInt64: Long.fromString('9007199254740993'),
      smallInt64: Long.fromNumber(5),
      decimal: Decimal128.fromString('19.990'),
      yes: true,
      nothing: null,
      date: new Date('2024-05-01T10:00:00Z'),
      dateWithMs: new Date('2024-05-01T10:00:00.123Z'),
      beforeEpoch: new Date(-1000),
      farFuture: new Date('+012345-01-01T00:00:00Z'),
      timestamp: new Timestamp({ t: 1700000000, i: 3 }),
      binary: new Binary(Buffer.from('hello'), 0),
      uuid: new UUID('0e2e2f3a-1b2c-4d5e-8f90-112233445566'),
      regex: new BSONRegExp('^a.c$', 'i'),
      code: new Code('function () {}'),
      ref: new DBRef('orders', new ObjectId('65a1b2c3d4e5f60718293a4c')),
      min: new MinKey(),
      max: new MaxKey(),
      nested: { lines: [{ sku: 'a', qty: 2, at: new Date(0) }, [1, 'two', null]], $odd: 'key' },
      emptyArray: [],
      emptyObject: {},
    });
    const withProto = viaDriver({ _id: 2 });
    Object.defineProperty(withProto, '__proto__', {
      value: { polluted: Long.fromNumber(1) },
      enumerable: true,
    });
    for (const doc of [fullDocument, withProto]) {
      const change = fromMongoChange(
        {
          _id: { _data: '8265A1B2C3000000012B022C0100296E5A1004' },
          operationType: 'insert',
          ns: { db: 'shop', coll: 'orders' },
          documentKey: { _id: doc._id as unknown },
          fullDocument: doc,
          clusterTime: new Timestamp({ t: 1700000000, i: 1 }),
          wallTime: new Date('2024-05-01T10:00:00.5Z'),
        } as never,
        'coll:shop.orders',
      );
      expect(change.message.fullDocument).toStrictEqual(reference(doc));
      expect(change.message.documentKey).toStrictEqual(reference({ _id: doc._id as unknown }));
      expect(change.message.clusterTime).toStrictEqual({
        $timestamp: { t: 1700000000, i: 1 },
      });
      expect(change.message.wallTime).toStrictEqual({ $date: '2024-05-01T10:00:00.500Z' });
    }
    expect(fullDocument.negativeZero).toBe(-0);
    expect((reference(fullDocument) as Document).bigInt64).toEqual({
      $numberLong: '9007199254740993',
    });
  });
});
