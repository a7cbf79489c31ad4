import { describe, expect, it } from 'vitest';
import { parseRelayConfig } from '../../src/relay/parseRelayConfig.js';
import { compileFilter } from '../../src/relay/relayFilter.js';

// A change message as the MongoDB source makes it: relaxed Extended JSON, int64 canonical.
const message = {
  id: 'k1',
  operationType: 'update',
  ns: { db: 'shop', coll: 'orders' },
  documentKey: { _id: { $oid: '65a1b2c3d4e5f60718293a4b' } },
  fullDocument: {
    _id: { $oid: '65a1b2c3d4e5f60718293a4b' },
    customer: { $oid: '65a1b2c3d4e5f60718293a4c' },
    status: 'paid',
    total: 120,
    quantity: { $numberLong: '7' },
    views: { $numberLong: '9007199254740993' },
    price: { $numberDecimal: '19.99' },
    placedAt: { $date: '2024-05-01T10:00:00Z' },
    archivedAt: { $date: { $numberLong: '-86400000' } },
    address: { city: 'Lyon', zip: '69001' },
    tags: ['gift', 'express'],
    lines: [
      { sku: 'a', qty: 2 },
      { sku: 'b', qty: 5 },
    ],
  },
};

const matches = (filter: Record<string, unknown>) => compileFilter(filter, 'filter')(message);

function filterProblem(filter: Record<string, unknown>): () => unknown {
  return () =>
    parseRelayConfig({
      source: { mongodb: { url: 'mongodb://127.0.0.1:27017' } },
      pipeline: [{ filter }],
    });
}

describe('relay filter: MongoDB query semantics', () => {
  it('compares int64 ({$numberLong}) values with numbers, exactly beyond 2^53', async () => {
    expect(await matches({ 'fullDocument.quantity': 7 })).toBe(true);
    expect(await matches({ 'fullDocument.quantity': { $gt: 5, $lte: 7 } })).toBe(true);
    expect(await matches({ 'fullDocument.quantity': { $in: [1, 7] } })).toBe(true);
    expect(
      await matches({ 'fullDocument.views': { $gt: { $numberLong: '9007199254740992' } } }),
    ).toBe(true);
    expect(await matches({ 'fullDocument.views': { $numberLong: '9007199254740992' } })).toBe(
      false,
    );
  });

  it('compares Decimal128 values by their decimal value, with numbers too', async () => {
    expect(await matches({ 'fullDocument.price': { $gte: 19.99 } })).toBe(true);
    expect(await matches({ 'fullDocument.price': { $numberDecimal: '19.990' } })).toBe(true);
    expect(
      await matches({
        'fullDocument.price': { $lt: { $numberDecimal: '19.9900000000000000001' } },
      }),
    ).toBe(true);
    expect(await matches({ 'fullDocument.price': { $gt: 20 } })).toBe(false);
  });

  it('compares dates ({$date}) as dates, in either Extended JSON form', async () => {
    expect(
      await matches({ 'fullDocument.placedAt': { $gte: { $date: '2024-01-01T00:00:00Z' } } }),
    ).toBe(true);
    expect(
      await matches({ 'fullDocument.placedAt': { $date: { $numberLong: '1714557600000' } } }),
    ).toBe(true);
    expect(
      await matches({ 'fullDocument.archivedAt': { $lt: { $date: '1970-01-01T00:00:00Z' } } }),
    ).toBe(true);
    // Type bracketing: a date is not compared with a number or a string.
    expect(await matches({ 'fullDocument.placedAt': { $gt: 0 } })).toBe(false);
    expect(await matches({ 'fullDocument.placedAt': { $gt: '2000' } })).toBe(false);
  });

  it('compares ObjectIds ({$oid}) with ObjectIds, and still with their hex string', async () => {
    expect(await matches({ 'documentKey._id': { $oid: '65a1b2c3d4e5f60718293a4b' } })).toBe(true);
    expect(
      await matches({ 'fullDocument.customer': { $in: [{ $oid: '65a1b2c3d4e5f60718293a4c' }] } }),
    ).toBe(true);
    expect(
      await matches({ 'fullDocument.customer': { $gt: { $oid: '65a1b2c3d4e5f60718293a4b' } } }),
    ).toBe(true);
    expect(await matches({ 'documentKey._id': '65a1b2c3d4e5f60718293a4b' })).toBe(true);
    expect(
      await matches({ 'documentKey._id': { $ne: { $oid: '65a1b2c3d4e5f60718293a4c' } } }),
    ).toBe(true);
  });

  it('matches an embedded document only with the same fields in the same order, as MongoDB does', async () => {
    expect(await matches({ 'fullDocument.address': { city: 'Lyon', zip: '69001' } })).toBe(true);
    expect(await matches({ 'fullDocument.address': { zip: '69001', city: 'Lyon' } })).toBe(false);
    expect(await matches({ 'fullDocument.address': { city: 'Lyon' } })).toBe(false);
  });

  it('reaches into arrays: a path through a list matches any element', async () => {
    expect(await matches({ 'fullDocument.lines.sku': 'b' })).toBe(true);
    expect(await matches({ 'fullDocument.lines.qty': { $gt: 4 } })).toBe(true);
    expect(await matches({ 'fullDocument.tags': 'gift' })).toBe(true);
    expect(await matches({ 'fullDocument.tags': { $eq: ['gift', 'express'] } })).toBe(true);
    expect(await matches({ 'fullDocument.tags': { $eq: ['express', 'gift'] } })).toBe(false);
  });

  it('supports $elemMatch, $size, $all, $not, $nor, $type and $regex with $options', async () => {
    expect(
      await matches({ 'fullDocument.lines': { $elemMatch: { sku: 'b', qty: { $gte: 5 } } } }),
    ).toBe(true);
    expect(await matches({ 'fullDocument.lines': { $elemMatch: { sku: 'a', qty: 5 } } })).toBe(
      false,
    );
    expect(await matches({ 'fullDocument.tags': { $size: 2 } })).toBe(true);
    expect(await matches({ 'fullDocument.tags': { $all: ['express', 'gift'] } })).toBe(true);
    expect(await matches({ 'fullDocument.total': { $not: { $gt: 100 } } })).toBe(false);
    expect(await matches({ $nor: [{ operationType: 'delete' }, { 'ns.db': 'other' }] })).toBe(true);
    expect(await matches({ 'fullDocument.quantity': { $type: 'long' } })).toBe(true);
    expect(await matches({ 'fullDocument.price': { $type: ['decimal', 'string'] } })).toBe(true);
    expect(await matches({ 'fullDocument.customer': { $type: 'objectId' } })).toBe(true);
    expect(await matches({ 'fullDocument.placedAt': { $type: 'date' } })).toBe(true);
    expect(await matches({ 'fullDocument.total': { $type: 'string' } })).toBe(false);
    expect(await matches({ 'fullDocument.status': { $regex: '^PA', $options: 'i' } })).toBe(true);
    expect(await matches({ 'fullDocument.status': { $regex: '/^PA/i' } })).toBe(true);
  });

  it('keeps the relay shorthands: a list is $in, a /regex/ string is a regex, $expr is JSONata', async () => {
    expect(await matches({ operationType: ['insert', 'update'] })).toBe(true);
    expect(await matches({ 'ns.coll': '/^ORD/i' })).toBe(true);
    expect(await matches({ 'ns.coll': { $in: ['/^inv/', 'orders'] } })).toBe(true);
    expect(
      await matches({ $or: [{ operationType: 'delete' }, { $expr: 'fullDocument.total > 100' }] }),
    ).toBe(true);
  });
});

describe('relay filter: operators checked when the config loads', () => {
  it('rejects a misspelt operator with its path and the operator meant', () => {
    expect(filterProblem({ 'fullDocument.status': { $regx: '^p' } })).toThrow(
      /pipeline\[0\]\.filter\["fullDocument\.status"\]\.\$regx: unknown operator '\$regx'.*did you mean '\$regex'\?/,
    );
    expect(filterProblem({ 'fullDocument.lines': { $elemMatch: { qty: { $gtt: 1 } } } })).toThrow(
      /pipeline\[0\]\.filter\["fullDocument\.lines"\]\.\$elemMatch\.qty\.\$gtt: unknown operator '\$gtt'.*did you mean '\$gt'\?/,
    );
    expect(filterProblem({ $nro: [{ operationType: 'insert' }] })).toThrow(
      /pipeline\[0\]\.filter\.\$nro: unknown operator '\$nro'.*did you mean '\$nor'\?/,
    );
  });

  it('rejects an unknown operator, one in the wrong place and a malformed argument', () => {
    expect(filterProblem({ 'fullDocument.total': { $foo: 1 } })).toThrow(
      /filter\["fullDocument\.total"\]\.\$foo: unknown operator '\$foo'; use one of \$eq, /,
    );
    expect(filterProblem({ $gt: 1 })).toThrow(/filter\.\$gt: .*compares a field/);
    expect(filterProblem({ 'fullDocument.total': { $or: [] } })).toThrow(
      /filter\["fullDocument\.total"\]\.\$or: .*at the top of a filter/,
    );
    expect(filterProblem({ 'fullDocument.tags': { $in: 'gift' } })).toThrow(/\$in: must be a list/);
    expect(filterProblem({ 'fullDocument.tags': { $size: -1 } })).toThrow(
      /\$size: must be a whole number/,
    );
    expect(filterProblem({ 'fullDocument.total': { $type: 'int' } })).toThrow(
      /\$type: unknown type 'int'/,
    );
    expect(filterProblem({ 'fullDocument.total': { $gt: 1, total: 2 } })).toThrow(
      /mixes operators and field names/,
    );
    expect(filterProblem({ 'documentKey._id': { $oid: 'nothex' } })).toThrow(
      /\$oid: must be 24 hex/,
    );
  });
});
