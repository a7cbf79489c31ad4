import { BSON, type Document, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileFilter } from '../../src/relay/relayFilter.js';
import { MONGODB_URL, serviceAvailable, uniqueName } from '../support/services.js';

// The relay filter against MongoDB itself (here the stand-in): the same documents, the same
// queries, the same answers. Documents and queries are written as the relay sees them
// (relaxed Extended JSON, int64 canonical); MongoDB gets their BSON.

const available = await serviceAvailable('mongodb');
const dbName = uniqueName('relay_filter');
let client: MongoClient;

const documents = [
  {
    _id: 1,
    status: 'paid',
    total: 120,
    quantity: { $numberLong: '7' },
    price: { $numberDecimal: '19.99' },
    placedAt: { $date: '2024-05-01T10:00:00Z' },
    customer: { $oid: '65a1b2c3d4e5f60718293a4c' },
    address: { city: 'Lyon', zip: '69001' },
    tags: ['gift', 'express'],
    lines: [
      { sku: 'a', qty: 2 },
      { sku: 'b', qty: 5 },
    ],
  },
  {
    _id: 2,
    status: 'new',
    total: 80,
    quantity: { $numberLong: '9007199254740993' },
    price: { $numberDecimal: '5' },
    placedAt: { $date: '2023-12-31T23:59:59Z' },
    customer: { $oid: '65a1b2c3d4e5f60718293a4b' },
    address: { zip: '75001', city: 'Paris' },
    tags: ['express'],
    lines: [{ sku: 'c', qty: 1 }],
  },
  { _id: 3, status: null, total: 100, tags: [], lines: [] },
];

const queries: Record<string, unknown>[] = [
  { status: 'paid' },
  { status: null },
  { status: { $exists: false } },
  { status: { $ne: 'paid' } },
  { total: { $gte: 100 } },
  { total: { $in: [80, 120] } },
  { total: { $nin: [80] } },
  { quantity: 7 },
  { quantity: { $gt: { $numberLong: '9007199254740992' } } },
  { price: { $gte: 10 } },
  { price: { $lt: { $numberDecimal: '19.99' } } },
  { placedAt: { $gte: { $date: '2024-01-01T00:00:00Z' } } },
  { placedAt: { $lt: { $date: '2024-01-01T00:00:00Z' } } },
  { customer: { $oid: '65a1b2c3d4e5f60718293a4b' } },
  { customer: { $gt: { $oid: '65a1b2c3d4e5f60718293a4b' } } },
  { address: { city: 'Lyon', zip: '69001' } },
  { address: { city: 'Paris', zip: '75001' } },
  { 'address.city': 'Paris' },
  { tags: 'express' },
  { tags: ['express'] },
  { tags: { $size: 0 } },
  { tags: { $all: ['express', 'gift'] } },
  { 'lines.sku': 'b' },
  { 'lines.qty': { $gt: 4 } },
  { lines: { $elemMatch: { sku: 'a', qty: { $gte: 2 } } } },
  { lines: { $elemMatch: { sku: 'a', qty: 5 } } },
  { status: { $regex: '^PA', $options: 'i' } },
  { total: { $not: { $gt: 90 } } },
  { $or: [{ status: 'new' }, { total: 100 }] },
  { $nor: [{ status: 'new' }, { total: 100 }] },
  { $and: [{ total: { $gt: 50 } }, { tags: 'gift' }] },
];

const toBson = (value: object): Document =>
  BSON.EJSON.deserialize(value, { relaxed: false }) as Document;

beforeAll(async () => {
  if (!available) return;
  client = await MongoClient.connect(MONGODB_URL);
  await client.db(dbName).collection('orders').insertMany(documents.map(toBson));
});
afterAll(async () => {
  if (!available) return;
  await client.db(dbName).dropDatabase();
  await client.close();
});

describe.skipIf(!available)('relay filter and MongoDB agree', () => {
  it.each(queries.map((q) => [JSON.stringify(q), q] as const))('%s', async (_, query) => {
    // An exact list is a MongoDB array equality; in the relay a list means $in, so the relay
    // spells it { $eq: [...] }.
    const relayQuery = Object.fromEntries(
      Object.entries(query).map(([k, v]) => [
        k,
        Array.isArray(v) && !k.startsWith('$') ? { $eq: v } : v,
      ]),
    );
    const test = compileFilter(relayQuery, 'filter');
    const relay: unknown[] = [];
    for (const d of documents) if (await test(d)) relay.push(d._id);
    const mongo = (
      await client.db(dbName).collection('orders').find(toBson(query)).sort({ _id: 1 }).toArray()
    ).map((d) => d._id as unknown);
    expect(relay).toEqual(mongo);
  });
});
