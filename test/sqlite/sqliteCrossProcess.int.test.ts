import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/core/types.js';
import { createSqliteEventStore } from '../../src/sqlite/sqliteEventStore.js';

const dir = mkdtempSync(join(tmpdir(), 'eventloom-xproc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runAppender(path: string, writer: string, count: number, startAt: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(import.meta.dirname, 'fixtures/appender.ts'),
        path,
        writer,
        String(count),
        String(startAt),
      ],
      { stdio: ['ignore', 'inherit', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`appender ${writer} exited ${code}: ${stderr}`)),
    );
  });
}

describe('SQLite store shared by several processes', () => {
  it('gives a subscriber in another process every event once, in order, while two processes append', async () => {
    const path = join(dir, 'shared.db');
    const store = createSqliteEventStore({ path, pollIntervalMs: 5 });
    const seen: RecordedEvent[] = [];
    const sub = store.subscribe({
      name: 'watcher',
      batchSize: 7,
      handler: (e) => void seen.push(e),
    });
    const perWriter = 1500;
    const startAt = Date.now() + 1500;
    await Promise.all([
      runAppender(path, 'x', perWriter, startAt),
      runAppender(path, 'y', perWriter, startAt),
    ]);
    const head = await store.headPosition();
    await sub.waitFor(head);
    await sub.stop();

    const all = await store.readAll();
    expect(all).toHaveLength(2 * perWriter * 2);
    expect(seen.map((e) => e.id)).toEqual(all.map((e) => e.id));
    for (let i = 1; i < seen.length; i++)
      expect(seen[i]!.position).toBeGreaterThan(seen[i - 1]!.position);
    // Both processes really interleaved: the log is not one writer followed by the other.
    const switches = all.filter((e, i) => i > 0 && e.id[0] !== all[i - 1]!.id[0]).length;
    expect(switches).toBeGreaterThan(10);
    // Each two-event batch stayed contiguous.
    for (let i = 0; i < all.length; i += 2)
      expect(all[i]!.id.slice(0, -2)).toBe(all[i + 1]!.id.slice(0, -2));
    await store.close();
  });
});
