import { describe, expect, it } from 'vitest';
import { createSqliteEventStore } from '../../src/sqlite/sqliteEventStore.js';

describe('SQLite subscriptions that handle some event types', () => {
  it('move past events of other types without decoding them: a damaged one does not stop them', async () => {
    const store = createSqliteEventStore({ path: ':memory:' });
    await store.appendToStream('other-1', [{ type: 'Other', data: { n: 1 } }]);
    await store.appendToStream('wanted-1', [{ type: 'Wanted', data: { n: 2 } }]);
    // The Other event's JSON is damaged where it is stored.
    store.database.prepare("UPDATE eventloom_events SET data = '{' WHERE type = 'Other'").run();
    const seen: unknown[] = [];
    const failures: unknown[] = [];
    const sub = store.subscribe({
      name: 'wanted-only',
      eventTypes: ['Wanted'],
      handler: (e) => void seen.push(e.data),
      onEvent: (notice) => {
        if (notice.kind === 'read-failed') failures.push(notice.error);
      },
    });
    const { lastPosition } = await store.appendToStream('wanted-2', [
      { type: 'Wanted', data: { n: 3 } },
    ]);
    await sub.waitFor(lastPosition, 10_000);
    expect(seen).toEqual([{ n: 2 }, { n: 3 }]);
    expect(failures).toEqual([]);
    // Whoever reads the damaged event itself still gets the error.
    await expect(store.readAll()).rejects.toThrow(SyntaxError);
    await sub.stop();
    await store.close();
  });
});
