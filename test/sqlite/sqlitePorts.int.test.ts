import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { isStoreClosedError } from '../../src/core/index.js';
import {
  createSqliteCheckpointStore,
  createSqliteEventStore,
  createSqliteKeyStore,
  createSqliteProjectionTarget,
  createSqliteSnapshotStore,
} from '../../src/sqlite/index.js';
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

const memoryDb = (): BetterSqlite3.Database => new BetterSqlite3(':memory:');

snapshotStoreContract('sqlite', {
  create: () => Promise.resolve(createSqliteSnapshotStore(memoryDb())),
});
checkpointStoreContract('sqlite', {
  create: () => Promise.resolve(createSqliteCheckpointStore(memoryDb())),
});
documentStoreContract('sqlite', {
  create: () => Promise.resolve(createSqliteProjectionTarget(memoryDb())),
});
snapshotStoreContract('sqlite (the event store snapshots)', {
  create: () => Promise.resolve(createSqliteEventStore({ path: ':memory:' }).snapshots),
});
checkpointStoreContract('sqlite (the event store checkpoints)', {
  create: () => Promise.resolve(createSqliteEventStore({ path: ':memory:' }).checkpoints),
});
documentStoreContract('sqlite (the event store documents)', {
  create: () => {
    const store = createSqliteEventStore({ path: ':memory:' });
    return Promise.resolve({
      ...createSqliteProjectionTarget(store.database),
      documents: store.documents.async,
    });
  },
});

/** A closed handle is for good: not retryable, the driver's TypeError kept as the cause. */
const closed = (error: Error, method: string): void => {
  expect(isStoreClosedError(error), `${method}: ${error.message}`).toBe(true);
  expect(error.cause, method).toBeInstanceOf(TypeError);
};

describe('SQLite stores on a closed database handle', () => {
  it('reject every checkpoint store call with a StoreClosedError carrying the driver error', async () => {
    const db = memoryDb();
    const checkpoints = createSqliteCheckpointStore(db);
    db.close();
    await expectEveryCallTranslated(checkpointStoreCalls(checkpoints), closed);
  });

  it('reject every snapshot store call with a StoreClosedError carrying the driver error', async () => {
    const db = memoryDb();
    const snapshots = createSqliteSnapshotStore(db);
    db.close();
    await expectEveryCallTranslated(snapshotStoreCalls(snapshots), closed);
  });

  it('reject every read-model call with a StoreClosedError carrying the driver error', async () => {
    const db = memoryDb();
    const target = createSqliteProjectionTarget(db);
    db.close();
    await expectEveryCallTranslated(projectionTargetCalls(target), closed);
  });

  it('reject every key store call with a StoreClosedError carrying the driver error', async () => {
    const db = memoryDb();
    const keys = createSqliteKeyStore(db);
    db.close();
    await expectEveryCallTranslated(keyStoreCalls(keys), closed);
  });

  it('throw a StoreClosedError from the synchronous read-model API on a closed handle', async () => {
    const store = createSqliteEventStore({ path: ':memory:' });
    await store.close();
    expect(() => store.documents.get('c', 'a')).toThrow(
      expect.objectContaining({ code: 'STORE_CLOSED' }) as Error,
    );
    expect(() => store.documents.put('c', 'a', {})).toThrow(
      expect.objectContaining({ code: 'STORE_CLOSED' }) as Error,
    );
    expect(() => store.documents.commit('p', 1, [])).toThrow(
      expect.objectContaining({ code: 'STORE_CLOSED' }) as Error,
    );
  });

  it('fails to open a store on a closed handle with a StoreClosedError, not a TypeError', () => {
    const db = memoryDb();
    db.close();
    expect(() => createSqliteCheckpointStore(db)).toThrow(
      expect.objectContaining({ code: 'STORE_CLOSED' }) as Error,
    );
    expect(() => createSqliteSnapshotStore(db)).toThrow(
      expect.objectContaining({ code: 'STORE_CLOSED' }) as Error,
    );
    expect(() => createSqliteProjectionTarget(db)).toThrow(
      expect.objectContaining({ code: 'STORE_CLOSED' }) as Error,
    );
  });
});
