import { MongoClient, MongoError } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';
import { isStoreUnavailableError } from '../../src/core/index.js';
import {
  createMongoCheckpointStore,
  createMongoEventStore,
  createMongoKeyStore,
  createMongoProjectionTarget,
  createMongoSnapshotStore,
  type MongoEventStore,
} from '../../src/mongodb/index.js';
import { checkpointStoreContract } from '../contract/checkpointStoreContract.js';
import { documentStoreContract } from '../contract/documentStoreContract.js';
import { snapshotStoreContract } from '../contract/snapshotStoreContract.js';
import {
  checkpointStoreCalls,
  expectEveryCallTranslated,
  keyStoreCalls,
  projectionTargetCalls,
  snapshotStoreCalls,
} from '../contract/storeFailureCalls.js';
import { MONGODB_URL, serviceAvailable, uniqueName } from '../support/services.js';

const available = await serviceAvailable('mongodb');

describe.skipIf(!available)('MongoDB ports', () => {
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
  const freshDb = () => {
    const name = uniqueName('el_ports');
    databases.push(name);
    return client.db(name);
  };

  snapshotStoreContract('mongodb', {
    create: () => Promise.resolve(createMongoSnapshotStore(freshDb().collection('snapshots'))),
  });
  checkpointStoreContract('mongodb', {
    create: () => {
      const db = freshDb();
      return Promise.resolve(
        createMongoCheckpointStore(db.collection('checkpoints'), db.collection('parked')),
      );
    },
  });
  const stores: MongoEventStore[] = [];
  afterAll(() => Promise.all(stores.map((s) => s.close())));
  const freshStore = (): MongoEventStore => {
    const store = createMongoEventStore({
      url: MONGODB_URL,
      dbName: freshDb().databaseName,
      onNotice: () => undefined,
    });
    stores.push(store);
    return store;
  };
  snapshotStoreContract('mongodb (the event store snapshots)', {
    create: () => Promise.resolve(freshStore().snapshots),
  });
  checkpointStoreContract('mongodb (the event store checkpoints)', {
    create: () => Promise.resolve(freshStore().checkpoints),
  });
  documentStoreContract('mongodb', {
    create: () => Promise.resolve(createMongoProjectionTarget({ db: freshDb() })),
  });
});

describe('MongoDB stores on an unreachable server', () => {
  // Nothing listens on port 1: server selection fails fast with a driver error.
  const client = new MongoClient('mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=200');
  const db = client.db('unreachable');
  afterAll(() => client.close());
  const retryable = (error: Error, method: string): void => {
    expect(isStoreUnavailableError(error), method).toBe(true);
    expect(error.cause, method).toBeInstanceOf(MongoError);
    expect(error.message, method).toContain('127.0.0.1:1');
  };

  it('reject every checkpoint store call with a StoreUnavailableError carrying the driver error', async () => {
    const checkpoints = createMongoCheckpointStore(db.collection('c'), db.collection('p'));
    await expectEveryCallTranslated(checkpointStoreCalls(checkpoints), retryable);
  });

  it('reject every snapshot store call with a StoreUnavailableError carrying the driver error', async () => {
    const snapshots = createMongoSnapshotStore(db.collection('s'));
    await expectEveryCallTranslated(snapshotStoreCalls(snapshots), retryable);
  });

  it('reject every read-model call with a StoreUnavailableError carrying the driver error', async () => {
    const target = createMongoProjectionTarget({ db });
    await expectEveryCallTranslated(projectionTargetCalls(target), retryable);
  });

  it('reject every key store call with a StoreUnavailableError carrying the driver error', async () => {
    await expectEveryCallTranslated(keyStoreCalls(createMongoKeyStore(db)), retryable);
  });
});
