import type { CheckpointStore, ParkedEvent } from './types.js';

/**
 * Checkpoints and parked events kept in memory: for tests, examples and the in-memory store.
 *
 * @example
 * const checkpoints = createMemoryCheckpointStore();
 * await checkpoints.save('emails', 42);
 */
export function createMemoryCheckpointStore(): CheckpointStore {
  const positions = new Map<string, number>();
  const parked: ParkedEvent[] = [];
  return {
    load: (name) => Promise.resolve(positions.get(name)),
    save(name, position) {
      positions.set(name, position);
      return Promise.resolve();
    },
    reset(name) {
      positions.delete(name);
      return Promise.resolve();
    },
    park(entry) {
      parked.push(entry);
      return Promise.resolve();
    },
    listParked: (subscription) =>
      Promise.resolve(
        parked.filter((p) => subscription === undefined || p.subscription === subscription),
      ),
    unpark(subscription, eventId) {
      const i = parked.findIndex((p) => p.subscription === subscription && p.event.id === eventId);
      if (i >= 0) parked.splice(i, 1);
      return Promise.resolve();
    },
  };
}
