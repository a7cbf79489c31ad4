import type { CheckpointStore, ParkedEvent } from './types.js';

/** A parked entry as a durable store would give it back: a copy the caller cannot change. */
const copy = (p: ParkedEvent): ParkedEvent => structuredClone(p);

/**
 * Checkpoints and parked events kept in memory: for tests, examples and the in-memory store.
 *
 * @example
 * const checkpoints = createMemoryCheckpointStore();
 * await checkpoints.save('emails', 42);
 */
export function createMemoryCheckpointStore(): CheckpointStore {
  const positions = new Map<string, number>();
  // Keyed like the durable stores' primary key, so re-parking an event replaces its entry.
  const parked = new Map<string, ParkedEvent>();
  const key = (subscription: string, eventId: string): string => `${subscription}\u0000${eventId}`;
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
      parked.set(key(entry.subscription, entry.event.id), copy(entry));
      return Promise.resolve();
    },
    listParked: (subscription) =>
      Promise.resolve(
        [...parked.values()]
          .filter((p) => subscription === undefined || p.subscription === subscription)
          .sort((a, b) => a.event.position - b.event.position)
          .map(copy),
      ),
    unpark(subscription, eventId) {
      parked.delete(key(subscription, eventId));
      return Promise.resolve();
    },
  };
}
