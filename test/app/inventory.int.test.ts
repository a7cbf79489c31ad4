import { MongoClient } from 'mongodb';
import { afterAll, describe } from 'vitest';
import { createMemoryEventStore, type EventStore } from '../../src/core/index.js';
import { createMongoEventStore, type MongoEventStore } from '../../src/mongodb/index.js';
import { createSqliteEventStore } from '../../src/sqlite/index.js';
import { inventoryContract } from '../contract/inventoryContract.js';
import { MONGODB_URL, serviceAvailable, uniqueName } from '../support/services.js';

inventoryContract('memory', {
  createStore: () => Promise.resolve(createMemoryEventStore()),
  numRuns: 40,
});

inventoryContract('SQLite', {
  createStore: () => Promise.resolve(createSqliteEventStore({ path: ':memory:' })),
  numRuns: 25,
});

const mongoAvailable = await serviceAvailable('mongodb');
describe.skipIf(!mongoAvailable)('MongoDB', () => {
  const client = new MongoClient(MONGODB_URL);
  const stores: MongoEventStore[] = [];
  const databases: string[] = [];
  afterAll(async () => {
    for (const store of stores) await store.close();
    for (const name of databases) await client.db(name).dropDatabase();
    await client.close();
  });
  inventoryContract('MongoDB', {
    createStore: (): Promise<EventStore> => {
      const dbName = uniqueName('el_inventory');
      databases.push(dbName);
      const store = createMongoEventStore({
        url: MONGODB_URL,
        dbName,
        onNotice: () => undefined,
      });
      stores.push(store);
      return Promise.resolve(store);
    },
    numRuns: 6,
  });
});
