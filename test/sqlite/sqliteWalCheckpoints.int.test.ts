import { existsSync, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSqliteEventStore } from '../../src/sqlite/sqliteEventStore.js';
import { startWalCheckpointer } from '../../src/sqlite/sqliteWalCheckpointer.js';

const dirs: string[] = [];
const freshDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'eventloom-wal-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const note = 'x'.repeat(2000);

describe('SQLite write-ahead log checkpoints in the background', () => {
  it('copies the log back into the database file from another thread, never from a commit', async () => {
    const path = join(freshDir(), 'events.db');
    const store = createSqliteEventStore({ path, walCheckpoints: 'background' });
    expect(store.database.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    const before = statSync(path).size;
    // About 8 MB of events: far past the 1000 pages at which a commit would checkpoint.
    for (let i = 0; i < 40; i++) {
      await store.appendToStream(
        `s-${i}`,
        Array.from({ length: 100 }, (_, j) => ({ type: 'Noted', data: { i, j, note } })),
      );
    }
    // Only a checkpoint writes pages into the database file; the store's connection has
    // auto-checkpoints off, so the checkpointer's thread did it.
    await vi.waitFor(() => expect(statSync(path).size).toBeGreaterThan(before + 4_000_000), {
      timeout: 10_000,
    });
    // Still off: the worker ran all along (had it stopped, the store would checkpoint itself).
    expect(store.database.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    expect(await store.readAll({ from: 3990 })).toHaveLength(11);
    await store.close();
    // The last connection closed: the log was copied back and removed.
    expect(existsSync(`${path}-wal`)).toBe(false);
    const reopened = createSqliteEventStore({ path });
    expect(await reopened.headPosition()).toBe(4000);
    await reopened.close();
  });

  it("turns the connection's own checkpoints back on, and says why, when the worker cannot run", async () => {
    const dir = freshDir();
    const db = new BetterSqlite3(join(dir, 'events.db'));
    db.pragma('journal_mode = WAL');
    // The worker opens the database by its path, which no longer leads to it.
    renameSync(join(dir, 'events.db'), join(dir, 'moved.db'));
    const problems: string[] = [];
    const checkpointer = startWalCheckpointer(db, (message) => problems.push(message));
    await vi.waitFor(() => expect(problems).toHaveLength(1), { timeout: 10_000 });
    expect(problems[0]).toMatch(
      /background WAL checkpoints stopped .*the store checkpoints itself again/,
    );
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    await checkpointer.close();
    db.close();
  });

  it('refuses an unknown checkpoint mode, naming the option and the modes', () => {
    expect(() =>
      createSqliteEventStore({
        path: ':memory:',
        walCheckpoints: 'sometimes' as unknown as 'auto',
      }),
    ).toThrow(
      /options\.walCheckpoints.*'auto'.*'background'|options\.walCheckpoints.*auto.*background/,
    );
  });
});
