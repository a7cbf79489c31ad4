import { describe, expect, it } from 'vitest';
import { createMemoryEventStore, type RecordedEvent } from '../../src/core/index.js';
import { REDACTED, storeSeenBy } from '../../src/app/appPersonalData.js';

describe('a store seen by one viewer', () => {
  it("redacts other people's personal fields for subscribers, also those that asked for batches", async () => {
    const store = createMemoryEventStore();
    await store.appendToStream('user-1', [
      {
        type: 'UserRegistered',
        data: { userId: '1', username: 'ada', email: 'ada@example.com', name: 'Ada' },
      },
    ]);
    const seen = storeSeenBy(store, { userId: '2', username: 'bob', role: 'user' });
    const delivered: RecordedEvent[] = [];
    const sub = seen.subscribe({
      name: 'explorer',
      handler: (e) => void delivered.push(e),
      handleBatch: (events) => void delivered.push(...events),
    });
    await sub.waitFor(1, 5000);
    await sub.stop();
    expect(delivered.map((e) => e.data)).toEqual([
      { userId: '1', username: REDACTED, email: REDACTED, name: REDACTED },
    ]);
    await store.close();
  });
});
