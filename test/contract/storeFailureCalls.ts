/**
 * Every method of every store port, called with harmless arguments: the failure suites call
 * them all against a broken database (closed handle, unreachable server) and expect each to
 * reject with an Eventloom error that keeps the driver's error as `cause`.
 */
import { expect } from 'vitest';
import { isEventloomError } from '../../src/core/errors.js';
import type { KeyStore } from '../../src/core/keyStore.js';
import type { ProjectionTarget } from '../../src/core/readModel.js';
import type { CheckpointStore, SnapshotStore } from '../../src/core/types.js';

type Calls = Record<string, () => Promise<unknown>>;

export function checkpointStoreCalls(checkpoints: CheckpointStore): Calls {
  const event = {
    id: 'e',
    streamId: 'x',
    type: 'T',
    data: {},
    metadata: {},
    version: 1,
    position: 1,
    recordedAt: new Date(),
  };
  return {
    load: () => checkpoints.load('s'),
    save: () => checkpoints.save('s', 1),
    reset: () => checkpoints.reset('s'),
    park: () =>
      checkpoints.park({
        subscription: 's',
        event,
        reason: 'r',
        attempts: 1,
        parkedAt: new Date(),
      }),
    listParked: () => checkpoints.listParked(),
    unpark: () => checkpoints.unpark('s', 'e'),
  };
}

export function snapshotStoreCalls(snapshots: SnapshotStore): Calls {
  return {
    load: () => snapshots.load('x'),
    save: () =>
      snapshots.save({
        streamId: 'x',
        version: 1,
        schemaVersion: 1,
        state: {},
        takenAt: new Date(),
      }),
    delete: () => snapshots.delete('x'),
  };
}

export function projectionTargetCalls(target: ProjectionTarget): Calls {
  return {
    get: () => target.documents.get('c', 'a'),
    find: () => target.documents.find('c'),
    put: () => target.documents.put('c', 'a', {}),
    delete: () => target.documents.delete('c', 'a'),
    findEntries: () => target.findEntries('c'),
    loadCheckpoint: () => target.loadCheckpoint('p'),
    commit: () => target.commit('p', 1, [{ op: 'put', collection: 'c', id: 'a', doc: {} }]),
    commitClaim: () =>
      target.commitClaim?.({ collection: 'c', id: 'a', doc: {} }, []) ?? Promise.resolve(),
    reset: () => target.reset('p', ['c']),
  };
}

export function keyStoreCalls(keys: KeyStore): Calls {
  return {
    get: () => keys.get('u'),
    create: () =>
      keys.create({
        subject: 'u',
        keyId: 'k',
        kekId: 'kek',
        wrappedKey: new Uint8Array([1]),
        createdAt: new Date(),
      }),
    forget: () => keys.forget('u', new Date()),
    listWrappedByOtherKek: () => keys.listWrappedByOtherKek('kek', 1),
    rewrap: () =>
      keys.rewrap(
        'u',
        { keyId: 'k', fromKekId: 'kek' },
        { kekId: 'k2', wrappedKey: new Uint8Array([2]) },
      ),
  };
}

/**
 * Calls each in turn; each must reject with an Eventloom error passing `check` and carrying
 * the driver error (`cause` passing `isDriverError`), never with the raw driver error.
 */
export async function expectEveryCallTranslated(
  calls: Calls,
  check: (error: Error, method: string) => void,
): Promise<void> {
  for (const [method, call] of Object.entries(calls)) {
    const error = await call().then(
      () => new Error(`${method} resolved on a broken database`),
      (e: unknown) => e,
    );
    expect(isEventloomError(error), `${method}: ${String(error)}`).toBe(true);
    expect((error as Error).cause, `${method} keeps the driver error`).toBeDefined();
    check(error as Error, method);
  }
}
