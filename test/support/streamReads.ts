import type { EventStore } from '../../src/core/types.js';

/** `store` recording the stream ids it is asked to read (`readStream`, `streamInfo`). */
export function recordingStreamReads(store: EventStore): { store: EventStore; reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    store: {
      ...store,
      readStream: (streamId, options) => {
        reads.push(`readStream ${streamId}`);
        return store.readStream(streamId, options);
      },
      streamInfo: (streamId) => {
        reads.push(`streamInfo ${streamId}`);
        return store.streamInfo(streamId);
      },
    },
  };
}
