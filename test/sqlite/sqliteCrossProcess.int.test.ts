import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/core/types.js';
import { createSqliteEventStore } from '../../src/sqlite/sqliteEventStore.js';

const dir = mkdtempSync(join(tmpdir(), 'eventloom-xproc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Appends `count` two-event batches as `writer`; with `other`, keeps pace with that writer. */
function runAppender(
  path: string,
  writer: string,
  count: number,
  startAt: number,
  other?: string,
): Promise<void> {
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
        ...(other === undefined ? [] : [other]),
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
      runAppender(path, 'x', perWriter, startAt, 'y'),
      runAppender(path, 'y', perWriter, startAt, 'x'),
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

  it('shows a reader every event in order when another process appends between two appends of ours, or after our last', async () => {
    const path = join(dir, 'interleaved.db');
    const store = createSqliteEventStore({ path });
    const first = await store.appendToStream('ours', [{ type: 'Ours', data: { n: 1 } }]);
    // A live subscriber has read up to our append and asks for what follows.
    expect(await store.readAll({ from: first.lastPosition + 1 })).toEqual([]);
    await runAppender(path, 'x', 1, 0);
    expect((await store.readAll({ from: first.lastPosition + 1 })).map((e) => e.id)).toEqual([
      'x-0-a',
      'x-0-b',
    ]);
    await store.appendToStream('ours', [{ type: 'Ours', data: { n: 2 } }]);
    await runAppender(path, 'y', 1, 0);
    await store.appendToStream('ours', [{ type: 'Ours', data: { n: 3 } }]);
    const all = await store.readAll();
    expect(
      all.map((e) => (e.type === 'Ours' ? `ours-${(e.data as { n: number }).n}` : e.id)),
    ).toEqual(['ours-1', 'x-0-a', 'x-0-b', 'ours-2', 'y-0-a', 'y-0-b', 'ours-3']);
    expect(all.map((e) => e.position)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    for (let from = 1; from <= 8; from++) {
      expect((await store.readAll({ from, maxCount: 2 })).map((e) => e.position)).toEqual(
        [from, from + 1].filter((p) => p <= 7),
      );
    }
    await store.close();
  });

  it('hands every reader of the same events its own objects', async () => {
    const store = createSqliteEventStore({ path: join(dir, 'own-objects.db') });
    await store.appendToStream('s', [{ type: 'A', data: { list: [1] }, metadata: { tag: 'x' } }]);
    const [a] = await store.readAll({ from: 1 });
    (a!.data as { list: number[] }).list.push(2);
    a!.metadata.tag = 'changed';
    const [b] = await store.readAll({ from: 1 });
    expect(b!.data).toEqual({ list: [1] });
    expect(b!.metadata.tag).not.toBe('changed');
    await store.close();
  });
});
