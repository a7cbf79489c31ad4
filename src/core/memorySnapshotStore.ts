import type { Snapshot, SnapshotStore } from './types.js';
import { supersedes, validateSnapshot } from './snapshotRules.js';
import { validateStreamId } from './validation.js';

/**
 * Snapshots kept in memory (one per stream; an older snapshot never
 * replaces a newer one of the same schema): for tests, examples and
 * single-process prototypes.
 *
 * @example
 * const snapshots = createMemorySnapshotStore();
 * const handle = createCommandHandler({ store, decider, snapshots: { store: snapshots, every: 100 } });
 */
export function createMemorySnapshotStore(): SnapshotStore {
  const snapshots = new Map<string, Snapshot>();
  // Copies in and out, like a real store: a caller mutating a loaded state (or the state it
  // just saved) must not change the stored snapshot.
  const copy = <S>(s: Snapshot<S>): Snapshot<S> => ({
    ...s,
    state: structuredClone(s.state),
    takenAt: new Date(s.takenAt),
  });
  return {
    load<S = unknown>(streamId: string): Promise<Snapshot<S> | undefined> {
      return Promise.resolve().then(() => {
        validateStreamId(streamId);
        const found = snapshots.get(streamId) as Snapshot<S> | undefined;
        return found === undefined ? undefined : copy(found);
      });
    },
    save(snapshot: Snapshot): Promise<void> {
      return Promise.resolve().then(() => {
        validateSnapshot(snapshot);
        if (supersedes(snapshot, snapshots.get(snapshot.streamId))) {
          snapshots.set(snapshot.streamId, copy(snapshot));
        }
      });
    },
    delete(streamId: string): Promise<void> {
      return Promise.resolve().then(() => {
        validateStreamId(streamId);
        snapshots.delete(streamId);
      });
    },
  };
}
