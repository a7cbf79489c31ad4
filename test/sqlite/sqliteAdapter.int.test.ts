import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import {
  isConfigurationError,
  isStoreClosedError,
  isStoreUnavailableError,
  ValidationError,
} from '../../src/core/errors.js';
import { createSqliteEventStore } from '../../src/sqlite/sqliteEventStore.js';
import { createSqliteSnapshotStore } from '../../src/sqlite/sqliteSnapshotStore.js';

const dir = mkdtempSync(join(tmpdir(), 'eventloom-sqlite-adapter-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('SQLite adapter', () => {
  it('names the path and the fix when the database folder does not exist', () => {
    let caught: unknown;
    try {
      createSqliteEventStore({ path: join(dir, 'no/such/folder/events.db') });
    } catch (e) {
      caught = e;
    }
    expect(isConfigurationError(caught)).toBe(true);
    expect((caught as Error).message).toMatch(/no\/such\/folder\/events\.db.*folder exists/);
  });

  it('refuses a file that is not an SQLite database with a clear message', () => {
    const path = join(dir, 'not-a-db.db');
    writeFileSync(path, 'this is a text file, not a database'.repeat(200));
    expect(() => createSqliteEventStore({ path })).toThrow(/not an SQLite database/);
  });

  it('reports a write lock held too long by another process as a retryable unavailability, keeping accepted events', async () => {
    const path = join(dir, 'locked.db');
    const store = createSqliteEventStore({ path, busyTimeoutMs: 50 });
    await store.appendToStream('acc-1', [{ type: 'Opened', data: {} }]);
    const other = new BetterSqlite3(path);
    other.exec('BEGIN IMMEDIATE');
    try {
      const attempt = store.appendToStream('acc-1', [{ type: 'Deposited', data: { amount: 1 } }]);
      await expect(attempt).rejects.toSatisfy(isStoreUnavailableError);
      await expect(attempt).rejects.toThrow(/locked.*busyTimeoutMs/);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    await store.appendToStream('acc-1', [{ type: 'Deposited', data: { amount: 2 } }], {
      expectedVersion: 1,
    });
    expect((await store.readStream('acc-1')).map((e) => e.type)).toEqual(['Opened', 'Deposited']);
    await store.close();
  });

  it('keeps events across a reopen of the same file', async () => {
    const path = join(dir, 'durable.db');
    const first = createSqliteEventStore({ path, durability: 'full' });
    await first.appendToStream('acc-1', [{ type: 'Opened', data: { owner: 'ada' } }]);
    await first.close();
    const second = createSqliteEventStore({ path });
    expect((await second.readStream('acc-1'))[0]).toMatchObject({
      type: 'Opened',
      data: { owner: 'ada' },
      version: 1,
    });
    await second.close();
  });

  it('rejects calls after close with a StoreClosed error', async () => {
    const store = createSqliteEventStore({ path: ':memory:' });
    await store.close();
    await expect(store.readAll()).rejects.toSatisfy(isStoreClosedError);
  });

  it('rejects a missing path option', () => {
    expect(() => createSqliteEventStore({} as { path: string })).toThrow(/options.path/);
    expect(() => createSqliteEventStore({ path: '' })).toThrow(ValidationError);
  });

  it('stores snapshots and never lets an older one overwrite a newer one', async () => {
    const db = new BetterSqlite3(':memory:');
    const snapshots = createSqliteSnapshotStore(db);
    await snapshots.save({
      streamId: 's-1',
      version: 10,
      state: { n: 10 },
      schemaVersion: 1,
      takenAt: new Date(),
    });
    await snapshots.save({
      streamId: 's-1',
      version: 5,
      state: { n: 5 },
      schemaVersion: 1,
      takenAt: new Date(),
    });
    expect(await snapshots.load('s-1')).toMatchObject({
      version: 10,
      state: { n: 10 },
      schemaVersion: 1,
    });
    await snapshots.save({
      streamId: 's-1',
      version: 3,
      state: { m: 3 },
      schemaVersion: 2,
      takenAt: new Date(),
    });
    expect(await snapshots.load('s-1')).toMatchObject({ version: 3, schemaVersion: 2 });
    await snapshots.delete('s-1');
    expect(await snapshots.load('s-1')).toBeUndefined();
    db.close();
  });
});
