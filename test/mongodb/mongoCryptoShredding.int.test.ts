import { MongoClient } from 'mongodb';
import { afterAll, describe } from 'vitest';
import { createMongoEventStore, createMongoKeyStore } from '../../src/mongodb/index.js';
import { cryptoShreddingContract } from '../contract/cryptoShreddingContract.js';
import { keyStoreContract } from '../contract/keyStoreContract.js';
import { MONGODB_URL, serviceAvailable, uniqueName } from '../support/services.js';

const available = await serviceAvailable('mongodb');

describe.skipIf(!available)('MongoDB crypto-shredding', () => {
  const client = new MongoClient(MONGODB_URL);
  const databases: string[] = [];
  afterAll(async () => {
    for (const name of databases)
      await client
        .db(name)
        .dropDatabase()
        .catch(() => undefined);
    await client.close();
  });
  const freshDb = (): string => {
    const name = uniqueName('el_keys');
    databases.push(name);
    return name;
  };

  const names = new Map<unknown, string>();
  keyStoreContract('mongodb', {
    create: () => {
      const name = freshDb();
      const keys = createMongoKeyStore(client.db(name));
      names.set(keys, name);
      return Promise.resolve(keys);
    },
    reopen: (keys) => Promise.resolve(createMongoKeyStore(client.db(names.get(keys)))),
  });

  cryptoShreddingContract('mongodb', {
    create: (options) => {
      const store = createMongoEventStore({
        url: MONGODB_URL,
        dbName: freshDb(),
        onNotice: () => undefined,
        ...options,
      });
      return Promise.resolve({ store, snapshots: store.snapshots });
    },
    inlineProjections: false,
  });
});
