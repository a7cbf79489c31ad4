/**
 * The SnapshotStore contract, written once and run against every implementation (memory,
 * SQLite, MongoDB). Each implementation's test file calls `snapshotStoreContract` with a
 * factory that returns a fresh, empty snapshot store.
 */
import { describe, expect, it } from 'vitest';
import { isValidationError } from '../../src/core/errors.js';
import type { Snapshot, SnapshotStore } from '../../src/core/types.js';

export interface SnapshotStoreHarness {
  create(): Promise<SnapshotStore>;
}

const snapshot = (version: number, overrides: Partial<Snapshot> = {}): Snapshot => ({
  streamId: 'order-1',
  version,
  schemaVersion: 1,
  state: { total: version * 10, lines: [{ sku: 'a', qty: version }] },
  takenAt: new Date('2024-01-02T03:04:05.000Z'),
  ...overrides,
});

export function snapshotStoreContract(name: string, harness: SnapshotStoreHarness): void {
  describe(`SnapshotStore contract: ${name}`, () => {
    it('returns nothing for a stream without a snapshot', async () => {
      const snapshots = await harness.create();
      expect(await snapshots.load('order-1')).toBeUndefined();
    });

    it('returns the saved snapshot with its state, versions and date', async () => {
      const snapshots = await harness.create();
      await snapshots.save(snapshot(3));
      const loaded = await snapshots.load('order-1');
      expect(loaded).toEqual(snapshot(3));
      expect(loaded?.takenAt).toBeInstanceOf(Date);
    });

    it('replaces a snapshot with a newer one of the same stream', async () => {
      const snapshots = await harness.create();
      await snapshots.save(snapshot(3));
      await snapshots.save(snapshot(7));
      expect((await snapshots.load('order-1'))?.version).toBe(7);
    });

    it('never replaces a newer snapshot with an older one of the same schema', async () => {
      const snapshots = await harness.create();
      await snapshots.save(snapshot(7));
      await snapshots.save(snapshot(3));
      expect(await snapshots.load('order-1')).toEqual(snapshot(7));
    });

    it('replaces a snapshot of another schema version even when it is newer', async () => {
      const snapshots = await harness.create();
      await snapshots.save(snapshot(7));
      await snapshots.save(snapshot(3, { schemaVersion: 2 }));
      expect(await snapshots.load('order-1')).toEqual(snapshot(3, { schemaVersion: 2 }));
    });

    it('keeps one snapshot per stream', async () => {
      const snapshots = await harness.create();
      await snapshots.save(snapshot(3));
      await snapshots.save(snapshot(5, { streamId: 'order-2' }));
      expect((await snapshots.load('order-1'))?.version).toBe(3);
      expect((await snapshots.load('order-2'))?.version).toBe(5);
    });

    it('is not changed by a caller mutating a saved or loaded state', async () => {
      const snapshots = await harness.create();
      const saved = snapshot(3);
      await snapshots.save(saved);
      (saved.state as { total: number }).total = -1;
      const loaded = await snapshots.load<{ total: number }>('order-1');
      if (loaded) loaded.state.total = -2;
      expect((await snapshots.load<{ total: number }>('order-1'))?.state.total).toBe(30);
    });

    it('deletes a snapshot, and deleting a missing one is a no-op', async () => {
      const snapshots = await harness.create();
      await snapshots.save(snapshot(3));
      await snapshots.delete('order-1');
      await snapshots.delete('order-1');
      expect(await snapshots.load('order-1')).toBeUndefined();
      await snapshots.save(snapshot(1));
      expect((await snapshots.load('order-1'))?.version).toBe(1);
    });

    it('rejects a snapshot without a valid stream id, naming the field', async () => {
      const snapshots = await harness.create();
      await expect(snapshots.save(snapshot(1, { streamId: '' }))).rejects.toSatisfy(
        isValidationError,
      );
      await expect(snapshots.save(snapshot(1, { streamId: '' }))).rejects.toThrow(
        'snapshot.streamId',
      );
    });

    it('rejects a snapshot with a bad version or date, naming the field, and keeps the stored one', async () => {
      const snapshots = await harness.create();
      await snapshots.save(snapshot(3));
      await expect(snapshots.save(snapshot(-1))).rejects.toThrow('snapshot.version');
      await expect(snapshots.save(snapshot(4, { schemaVersion: 1.5 }))).rejects.toThrow(
        'snapshot.schemaVersion',
      );
      await expect(
        snapshots.save(snapshot(4, { takenAt: 'yesterday' as unknown as Date })),
      ).rejects.toSatisfy(isValidationError);
      await expect(snapshots.save(snapshot(4, { takenAt: new Date(Number.NaN) }))).rejects.toThrow(
        'snapshot.takenAt',
      );
      expect(await snapshots.load('order-1')).toEqual(snapshot(3));
    });
  });
}
