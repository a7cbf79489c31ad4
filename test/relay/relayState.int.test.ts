/** The relay's state stores (SQLite file, MongoDB database): what goes in comes back exactly. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';
import type { ChangeMessage } from '../../src/relay/relayChange.js';
import { createMongoRelayState } from '../../src/relay/relayMongoState.js';
import { createSqliteRelayState } from '../../src/relay/relaySqliteState.js';
import type { RelayStateStore } from '../../src/relay/relayStateStore.js';
import { MONGODB_URL, serviceAvailable, uniqueName } from '../support/services.js';

const mongoAvailable = await serviceAvailable('mongodb');
const database = uniqueName('relay_state');

afterAll(async () => {
  if (!mongoAvailable) return;
  const client = await MongoClient.connect(MONGODB_URL);
  await client.db(database).dropDatabase();
  await client.close();
});

const stores: [string, boolean, () => Promise<RelayStateStore>][] = [
  [
    'SQLite',
    true,
    () =>
      createSqliteRelayState({
        path: join(mkdtempSync(join(tmpdir(), 'eventloom-relay-state-')), 'state.db'),
        relay: 'r1',
      }),
  ],
  [
    'MongoDB',
    mongoAvailable,
    () => createMongoRelayState({ url: MONGODB_URL, database, relay: 'r1' }),
  ],
];

describe.each(stores)('%s relay state', (_name, available, open) => {
  it.skipIf(!available)(
    'gives a dead letter back byte for byte: Extended JSON values, int64 beyond 2^53, key order',
    async () => {
      const state = await open();
      try {
        const message: ChangeMessage = {
          id: 'k1',
          operationType: 'insert',
          ns: { db: 'shop', coll: 'orders' },
          documentKey: { _id: { $oid: '6b0c732945876662fc6b06cb' } },
          fullDocument: {
            zeta: 1,
            _id: { $oid: '6b0c732945876662fc6b06cb' },
            big: { $numberLong: '9007199254740993' },
            price: { $numberDecimal: '0.10' },
            at: { $date: '2026-01-02T03:04:05.678Z' },
            stamp: { $timestamp: { t: 1700000000, i: 3 } },
            blob: { $binary: { base64: 'AAEC+v8=', subType: '00' } },
            ratio: 2.5,
            nested: [[{ $numberLong: '-9007199254740995' }], { deeper: [null, 'x', true] }],
          },
        };
        await state.addDeadLetter({
          key: 'k1',
          streamKey: 'coll:shop.orders',
          orderingKey: 'shop.orders:1',
          step: 'pipeline[0].http',
          reason: 'answered 422',
          attempts: 1,
          message,
          deadAt: new Date(),
        });
        const [entry] = await state.listDeadLetters();
        expect(JSON.stringify(entry?.message)).toBe(JSON.stringify(message));
      } finally {
        await state.deleteCheckpoints();
        await state.removeDeadLetter('k1');
        await state.close();
      }
    },
  );
});
