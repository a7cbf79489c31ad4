import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createMemoryDocuments } from '../../src/core/memoryDocumentStore.js';
import type { ProjectionTarget } from '../../src/core/readModel.js';
import { createProcessedEvents, onceByEventId } from '../../src/kafka/processedEvents.js';
import { createSqliteProjectionTarget } from '../../src/sqlite/sqliteDocumentStore.js';

const dbs: BetterSqlite3.Database[] = [];
afterAll(() => dbs.forEach((db) => db.close()));

const targets: [string, () => ProjectionTarget][] = [
  ['memory', () => createMemoryDocuments().target],
  [
    'SQLite',
    () => {
      const db = new BetterSqlite3(':memory:');
      dbs.push(db);
      return createSqliteProjectionTarget(db);
    },
  ],
];

const event = (id: string, user: string) => ({ id, position: 1, streamId: user });

describe.each(targets)('processed events on a %s target', (_, makeTarget) => {
  it('applies a redelivered event once: the counter counts each event id one time', async () => {
    const target = makeTarget();
    const processed = createProcessedEvents({ target, name: 'logins' });
    const countLogin = onceByEventId(
      processed,
      async (e: { id: string; streamId: string }, docs) => {
        const doc = await docs.get<{ logins: number }>('logins', e.streamId);
        await docs.put('logins', e.streamId, { logins: (doc?.logins ?? 0) + 1 });
      },
    );
    for (const e of [
      event('e1', 'ada'),
      event('e2', 'ada'),
      event('e1', 'ada'),
      event('e3', 'bob'),
      event('e2', 'ada'),
    ]) {
      await countLogin(e, undefined);
    }
    expect(await target.documents.get('logins', 'ada')).toEqual({ logins: 2 });
    expect(await target.documents.get('logins', 'bob')).toEqual({ logins: 1 });
    expect(await processed.has('e1')).toBe(true);
    expect(await processed.has('e9')).toBe(false);
  });

  it('records nothing when the change fails, so the redelivery applies it', async () => {
    const target = makeTarget();
    const processed = createProcessedEvents({ target, name: 'users' });
    await expect(
      processed.once(event('e1', 'ada'), async (docs) => {
        await docs.put('users', 'ada', { name: 'Ada' });
        throw new Error('read model rejected it');
      }),
    ).rejects.toThrow('read model rejected it');
    expect(await processed.has('e1')).toBe(false);
    expect(await target.documents.get('users', 'ada')).toBeUndefined();
    expect(
      await processed.once(event('e1', 'ada'), (docs) => docs.put('users', 'ada', { name: 'Ada' })),
    ).toBe(true);
    expect(
      await processed.once(event('e1', 'ada'), (docs) =>
        docs.put('users', 'ada', { name: 'Nope' }),
      ),
    ).toBe(false);
    expect(await target.documents.get('users', 'ada')).toEqual({ name: 'Ada' });
  });

  it('keeps the ids of two read models in one target apart', async () => {
    const target = makeTarget();
    const a = createProcessedEvents({ target, name: 'a' });
    const b = createProcessedEvents({ target, name: 'b' });
    expect(await a.once(event('e1', 'x'), () => undefined)).toBe(true);
    expect(await b.once(event('e1', 'x'), () => undefined)).toBe(true);
    expect(await a.once(event('e1', 'x'), () => undefined)).toBe(false);
  });

  it('lets the change read its own pending writes', async () => {
    const target = makeTarget();
    const processed = createProcessedEvents({ target, name: 'pending' });
    await processed.once(event('e1', 'x'), async (docs) => {
      await docs.put('users', 'u1', { role: 'admin' });
      expect(await docs.get('users', 'u1')).toEqual({ role: 'admin' });
      expect(await docs.find('users', { role: 'admin' })).toEqual([{ role: 'admin' }]);
      await docs.delete('users', 'u1');
      expect(await docs.find('users')).toEqual([]);
    });
  });
});

describe('processed events options', () => {
  it('names the bad option', () => {
    const target = createMemoryDocuments().target;
    expect(() => createProcessedEvents({ target, name: '' })).toThrow(/options.name/);
    expect(() => createProcessedEvents({ target: {} as ProjectionTarget, name: 'x' })).toThrow(
      /options.target/,
    );
  });
});
