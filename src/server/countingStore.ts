import { type EventStore, storedFormOf } from '../core/index.js';
import { streamCategory } from '../core/streamCategory.js';

/**
 * The same store, telling `onAppended` how many events each successful append wrote and how
 * long it took, by the stream's category (the part of the stream id before the first `-`).
 */
export function countingStore(
  store: EventStore,
  onAppended: (category: string, events: number, seconds: number) => void,
): EventStore {
  return {
    get checkpoints() {
      return store.checkpoints;
    },
    async appendToStream(streamId, events, options) {
      const started = performance.now();
      const result = await store.appendToStream(streamId, events, options);
      onAppended(streamCategory(streamId), events.length, (performance.now() - started) / 1000);
      return result;
    },
    readStream: (streamId, options) => store.readStream(streamId, options),
    readAll: (options) => store.readAll(options),
    streamInfo: (streamId) => store.streamInfo(streamId),
    deleteStream: (streamId, options) => store.deleteStream(streamId, options),
    headPosition: () => store.headPosition(),
    subscribe: (options) => store.subscribe(options),
    close: () => store.close(),
    // Readers of the stored form (personal fields still sealed: the event-rate chart needs
    // no plaintext) find it through this wrapper too.
    ...(storedFormOf(store) !== store ? { storedForm: storedFormOf(store) } : {}),
  };
}
