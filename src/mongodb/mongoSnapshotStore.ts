import type { Collection } from 'mongodb';
import { translatingErrors } from '../core/portErrors.js';
import { validateSnapshot } from '../core/snapshotRules.js';
import type { Snapshot, SnapshotStore } from '../core/types.js';
import { hostsOf, isDuplicateKey, translateMongoError } from './mongoErrors.js';
import type { SnapshotDoc } from './mongoSchema.js';

/**
 * Snapshots of stream state in MongoDB, one document per stream; an older snapshot never
 * replaces a newer one of the same schema.
 *
 * @example
 * createCommandHandler({ store, decider, snapshots: { store: store.snapshots, every: 100 } });
 */
export function createMongoSnapshotStore(
  snapshots: Collection<SnapshotDoc>,
  ready: () => Promise<void> = () => Promise.resolve(),
): SnapshotStore {
  const hosts = hostsOf(snapshots.db);
  return translatingErrors(
    snapshotStore(snapshots, ready),
    'MongoDB snapshot store',
    (e, context) => translateMongoError(e, context, hosts),
  );
}

function snapshotStore(
  snapshots: Collection<SnapshotDoc>,
  ready: () => Promise<void>,
): SnapshotStore {
  return {
    async load<S>(streamId: string): Promise<Snapshot<S> | undefined> {
      await ready();
      const d = await snapshots.findOne({ _id: streamId });
      if (!d) return undefined;
      return {
        streamId,
        version: d.version,
        schemaVersion: d.schemaVersion,
        state: d.state as S,
        takenAt: d.takenAt,
      };
    },
    async save(s) {
      validateSnapshot(s);
      await ready();
      const doc = {
        version: s.version,
        schemaVersion: s.schemaVersion,
        state: JSON.parse(JSON.stringify(s.state)) as unknown,
        takenAt: s.takenAt,
      };
      // Replace only an older snapshot, or one of another schema; a duplicate-key error means
      // a newer snapshot won the race, which is fine.
      try {
        await snapshots.replaceOne(
          {
            _id: s.streamId,
            $or: [{ version: { $lte: s.version } }, { schemaVersion: { $ne: s.schemaVersion } }],
          },
          doc,
          { upsert: true },
        );
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
      }
    },
    async delete(streamId) {
      await ready();
      await snapshots.deleteOne({ _id: streamId });
    },
  };
}
