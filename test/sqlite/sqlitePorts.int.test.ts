import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { isEventloomError, isStoreClosedError } from '../../src/core/index.js';
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
documentStoreContract('sqlite (the event store documents)', {
  create: () => {
    const store = createSqliteEventStore({ path: ':memory:' });
    return Promise.resolve({
      ...createSqliteProjectionTarget(store.database),
      documents: store.documents.async,
    });
  },
});

/** Every call of a store on a closed handle: each must reject with a translated error. */
const expectTranslated = async (calls: Record<string, () => Promise<unknown>>): Promise<void> => {
  for (const [name, call] of Object.entries(calls)) {
    const error = await call().then(
      () => new Error(`${name} resolved on a closed database`),
      (e: unknown) => e,
    );
    expect(isEventloomError(error), `${name}: ${String(error)}`).toBe(true);
    expect(isStoreClosedError(error), name).toBe(true);
    expect((error as Error).cause, name).toBeInstanceOf(TypeError);
    expect((error as Error).message, name).toContain(name);
  }
};

describe('SQLite stores on a closed database handle', () => {
  it('reject every checkpoint store call with a StoreClosedError carrying the driver error', async () => {
    const db = memoryDb();
    const checkpoints = createSqliteCheckpointStore(db);
    db.close();
    const entry = {
      subscription: 's',
      event: {
        id: 'e',
        streamId: 'x',
        type: 'T',
        data: {},
        metadata: {},
        version: 1,
        position: 1,
        recordedAt: new Date(),
      },
      reason: 'r',
      attempts: 1,
      parkedAt: new Date(),
    };
    await expectTranslated({
      load: () => checkpoints.load('s'),
      save: () => checkpoints.save('s', 1),
      reset: () => checkpoints.reset('s'),
      park: () => checkpoints.park(entry),
      listParked: () => checkpoints.listParked(),
      unpark: () => checkpoints.unpark('s', 'e'),
    });
  });

  it('reject every snapshot store call with a StoreClosedError carrying the driver error', async () => {
    const db = memoryDb();
    const snapshots = createSqliteSnapshotStore(db);
    db.close();
    const snapshot = {
      streamId: 'x',
      version: 1,
      schemaVersion: 1,
      state: {},
      takenAt: new Date(),
    };
    await expectTranslated({
      load: () => snapshots.load('x'),
      save: () => snapshots.save(snapshot),
      delete: () => snapshots.delete('x'),
    });
  });

  it('reject every read-model call with a StoreClosedError carrying the driver error', async () => {
    const db = memoryDb();
    const target = createSqliteProjectionTarget(db);
    db.close();
    await expectTranslated({
      get: () => target.documents.get('c', 'a'),
      find: () => target.documents.find('c'),
      put: () => target.documents.put('c', 'a', {}),
      delete: () => target.documents.delete('c', 'a'),
      findEntries: () => target.findEntries('c'),
      loadCheckpoint: () => target.loadCheckpoint('p'),
      commit: () => target.commit('p', 1, []),
      commitClaim: () =>
        target.commitClaim?.({ collection: 'c', id: 'a', doc: {} }, []) ?? Promise.resolve(),
      reset: () => target.reset('p', ['c']),
    });
  });

  it('reject every key store call with a StoreClosedError carrying the driver error', async () => {
    const db = memoryDb();
    const keys = createSqliteKeyStore(db);
    db.close();
    await expectTranslated({
      'Reading a data key': () => keys.get('u'),
      'Storing a data key': () =>
        keys.create({
          subject: 'u',
          keyId: 'k',
          kekId: 'kek',
          wrappedKey: new Uint8Array([1]),
          createdAt: new Date(),
        }),
      'Forgetting a data key': () => keys.forget('u', new Date()),
      'Listing data keys': () => keys.listWrappedByOtherKek('kek', 1),
      'Re-wrapping a data key': () =>
        keys.rewrap(
          'u',
          { keyId: 'k', fromKekId: 'kek' },
          { kekId: 'k2', wrappedKey: new Uint8Array([2]) },
        ),
    });
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
