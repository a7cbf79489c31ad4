import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { isEventloomError, isStoreClosedError, isStoreFailedError } from '../../src/core/errors.js';
import { createMemoryEventStore } from '../../src/core/memoryEventStore.js';
import type { AppendResult, EventData, EventStore } from '../../src/core/types.js';
import { createSqliteEventStore } from '../../src/sqlite/sqliteEventStore.js';

const dir = mkdtempSync(join(tmpdir(), 'eventloom-group-commit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshPath = (): string => join(dir, `group-${files++}.db`);
const ev = (type: string, id?: string): EventData => ({
  type,
  data: { n: type },
  ...(id ? { id } : {}),
});

type Outcome = { ok: AppendResult } | { code: string };
const outcomeOf = async (p: Promise<AppendResult>): Promise<Outcome> => {
  try {
    return { ok: await p };
  } catch (error) {
    if (!isEventloomError(error)) throw error;
    return { code: error.code };
  }
};

/** Every event in global order, as the facts a caller can check: id, stream, version, position. */
const facts = async (store: EventStore) =>
  (await store.readAll()).map((e) => ({
    id: e.id,
    streamId: e.streamId,
    version: e.version,
    position: e.position,
    type: e.type,
  }));

const walFrames = (store: ReturnType<typeof createSqliteEventStore>): number =>
  (store.database.pragma('wal_checkpoint(PASSIVE)') as { log: number }[])[0]!.log;

/** A store with one commit behind it and an empty write-ahead log, to count a test's frames. */
const warmStore = async (): Promise<ReturnType<typeof createSqliteEventStore>> => {
  const store = createSqliteEventStore({ path: freshPath() });
  await store.appendToStream('warm-up', [ev('A')]);
  store.database.pragma('wal_checkpoint(TRUNCATE)');
  return store;
};

/**
 * Runs `work` in `count` callbacks, each its own macrotask with its microtasks drained in
 * between, like the I/O callbacks of HTTP requests read in one poll phase.
 */
const inSeparateCallbacks = <T>(count: number, work: (i: number) => Promise<T>): Promise<T[]> =>
  Promise.all(
    Array.from(
      { length: count },
      (_, i) =>
        new Promise<T>((resolve, reject) => setImmediate(() => void work(i).then(resolve, reject))),
    ),
  );

describe('SQLite group commit', () => {
  it('commits appends issued together in one transaction, each caller getting its own versions and positions', async () => {
    const store = createSqliteEventStore({ path: freshPath() });
    await store.appendToStream('warm-up', [ev('A')]);
    store.database.pragma('wal_checkpoint(TRUNCATE)');
    const results = await Promise.all(
      Array.from({ length: 32 }, (_, i) =>
        store.appendToStream(`cart-${i}`, [ev('Added')], { expectedVersion: 'no_stream' }),
      ),
    );
    // Each commit appends at least one frame to the write-ahead log; 32 separate commits
    // could not stay under 32 frames.
    expect(walFrames(store)).toBeLessThan(32);
    expect(results.map((r) => r.nextExpectedVersion)).toEqual(new Array(32).fill(1));
    expect(results.map((r) => r.lastPosition)).toEqual(Array.from({ length: 32 }, (_, i) => i + 2));
    await store.close();
  });

  it('commits appends issued from separate callbacks of one event-loop turn together, as concurrent HTTP requests do', async () => {
    const store = await warmStore();
    const results = await inSeparateCallbacks(32, (i) =>
      store.appendToStream(`cart-${i}`, [ev('Added')], { expectedVersion: 'no_stream' }),
    );
    expect(walFrames(store)).toBeLessThan(32);
    expect(results.map((r) => r.lastPosition)).toEqual(Array.from({ length: 32 }, (_, i) => i + 2));
    await store.close();
  });

  it('does not hold back an append to another stream behind a read, and a read of the appended stream sees it', async () => {
    const store = await warmStore();
    const results = await inSeparateCallbacks(32, async (i) => {
      const before = await store.readStream(`order-${i}`);
      await store.appendToStream(`order-${i}`, [ev('Placed')], {
        expectedVersion: before.length === 0 ? 'no_stream' : before.length,
      });
      return (await store.readStream(`order-${i}`)).length;
    });
    expect(walFrames(store)).toBeLessThan(32);
    expect(results).toEqual(new Array(32).fill(1));
    expect((await facts(store)).map((e) => e.streamId)).toEqual([
      'warm-up',
      ...Array.from({ length: 32 }, (_, i) => `order-${i}`),
    ]);
    await store.close();
  });

  it('fails only the caller whose expected version is wrong; the others in its group commit', async () => {
    const store = createSqliteEventStore({ path: freshPath() });
    await store.appendToStream('acc-1', [ev('Opened')]);
    const [a, stale, b, dup] = await Promise.all([
      outcomeOf(store.appendToStream('acc-2', [ev('Opened')], { expectedVersion: 'no_stream' })),
      outcomeOf(store.appendToStream('acc-1', [ev('Deposited')], { expectedVersion: 0 })),
      outcomeOf(store.appendToStream('acc-1', [ev('Deposited')], { expectedVersion: 1 })),
      outcomeOf(store.appendToStream('acc-2', [ev('Opened')], { expectedVersion: 'no_stream' })),
    ]);
    expect(a).toEqual({ ok: { nextExpectedVersion: 1, lastPosition: 2 } });
    expect(stale).toEqual({ code: 'CONCURRENCY_CONFLICT' });
    expect(b).toEqual({ ok: { nextExpectedVersion: 2, lastPosition: 3 } });
    expect(dup).toEqual({ code: 'CONCURRENCY_CONFLICT' });
    expect((await facts(store)).map((e) => e.position)).toEqual([1, 2, 3]);
    await store.close();
  });

  it('matches the one-at-a-time model for any mix of concurrent appends, conflicts and duplicate event ids', async () => {
    type Op = { stream: number; expect: 'any' | 'no_stream' | 'exists' | number; ids: number[] };
    const op = fc.record<Op>({
      stream: fc.integer({ min: 0, max: 2 }),
      expect: fc.oneof(
        fc.constantFrom<'any' | 'no_stream' | 'exists'>('any', 'no_stream', 'exists'),
        fc.integer({ min: 0, max: 4 }),
      ),
      // Ids from a small pool, so retries (same ids, same stream) and clashes happen often.
      ids: fc.array(fc.integer({ min: 0, max: 7 }), { minLength: 1, maxLength: 3 }),
    });
    const waves = fc.array(fc.array(op, { minLength: 1, maxLength: 12 }), {
      minLength: 1,
      maxLength: 3,
    });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(waves, async (ws) => {
        const prefix = `r${run++}`;
        const store = createSqliteEventStore({ path: freshPath() });
        const model = createMemoryEventStore();
        const idOf = (n: number): string =>
          `0190a0a0-0000-7000-8000-${String(run * 100 + n).padStart(12, '0')}`;
        try {
          for (const wave of ws) {
            const call = (target: EventStore, o: Op): Promise<AppendResult> =>
              target.appendToStream(
                `${prefix}-s${o.stream}`,
                o.ids.map((n) => ev(`T${n}`, idOf(n))),
                {
                  expectedVersion: o.expect === 'exists' ? 'stream_exists' : o.expect,
                },
              );
            // All at once on SQLite (one group); one after the other, in call order, on the model.
            const got = await Promise.all(wave.map((o) => outcomeOf(call(store, o))));
            const want: Outcome[] = [];
            for (const o of wave) want.push(await outcomeOf(call(model, o)));
            expect(got).toEqual(want);
          }
          const stored = await facts(store);
          expect(stored).toEqual(await facts(model));
          // Gap-free global order: rejected appends left no hole and wrote nothing.
          expect(stored.map((e) => e.position)).toEqual(stored.map((_, i) => i + 1));
        } finally {
          await store.close();
          await model.close();
        }
      }),
      { numRuns: 60 },
    );
  });

  it('undoes a failing multi-event append inside a group without touching the appends around it', async () => {
    const store = createSqliteEventStore({ path: freshPath() });
    // The second event of one append fails after its first was written.
    store.database.exec(`CREATE TRIGGER refuse_explode BEFORE INSERT ON eventloom_events
      WHEN NEW.type = 'Explode' BEGIN SELECT RAISE(ABORT, 'explosions are refused'); END`);
    const [before, boom, after] = await Promise.all([
      outcomeOf(store.appendToStream('a', [ev('Fine')])),
      outcomeOf(store.appendToStream('boom', [ev('Fine'), ev('Explode')])),
      outcomeOf(store.appendToStream('b', [ev('Fine'), ev('Fine')])),
    ]);
    expect(before).toEqual({ ok: { nextExpectedVersion: 1, lastPosition: 1 } });
    expect(boom).toEqual({ code: 'STORE_FAILED' });
    expect(after).toEqual({ ok: { nextExpectedVersion: 2, lastPosition: 3 } });
    expect((await facts(store)).map((e) => `${e.streamId}@${e.position}`)).toEqual([
      'a@1',
      'b@2',
      'b@3',
    ]);
    expect((await store.streamInfo('boom')).exists).toBe(false);
    await store.close();
  });

  it('names the failure of an append whose statement SQLite refused in a group', async () => {
    const store = createSqliteEventStore({ path: freshPath() });
    store.database.exec(`CREATE TRIGGER refuse_explode BEFORE INSERT ON eventloom_events
      WHEN NEW.type = 'Explode' BEGIN SELECT RAISE(ABORT, 'explosions are refused'); END`);
    const fine = store.appendToStream('a', [ev('Fine')]);
    const boom = store.appendToStream('boom', [ev('Explode')]);
    await expect(boom).rejects.toSatisfy(
      (e: unknown) =>
        isStoreFailedError(e) && /stream 'boom'.*explosions are refused/.test((e as Error).message),
    );
    await expect(fine).resolves.toEqual({ nextExpectedVersion: 1, lastPosition: 1 });
    await store.close();
  });

  it('fails the whole group with a clear error when the database is gone, losing nothing acknowledged', async () => {
    const path = freshPath();
    const store = createSqliteEventStore({ path });
    const acknowledged = await store.appendToStream('acc-1', [ev('Opened')]);
    const pending = [
      store.appendToStream('acc-1', [ev('Deposited')], { expectedVersion: 1 }),
      store.appendToStream('acc-2', [ev('Opened')]),
    ];
    store.database.close();
    for (const p of pending)
      await expect(p).rejects.toSatisfy(
        (e: unknown) =>
          isStoreClosedError(e) && /Appending to stream 'acc-\d'/.test((e as Error).message),
      );
    const reopened = createSqliteEventStore({ path });
    expect(await facts(reopened)).toEqual([
      expect.objectContaining({
        streamId: 'acc-1',
        version: 1,
        position: acknowledged.lastPosition,
      }),
    ]);
    await reopened.close();
  });

  it('keeps every acknowledged append and writes nothing for the refused ones when the disk fills mid-group', async () => {
    const store = createSqliteEventStore({ path: freshPath() });
    await store.appendToStream('seed', [ev('Seed')]);
    const pages = store.database.pragma('page_count', { simple: true }) as number;
    store.database.pragma(`max_page_count = ${pages + 4}`);
    const big = (i: number): EventData => ({ type: 'Big', data: { blob: 'x'.repeat(3000), i } });
    const calls = Array.from({ length: 24 }, (_, i) => store.appendToStream(`big-${i}`, [big(i)]));
    const outcomes = await Promise.all(calls.map(outcomeOf));
    expect(outcomes.some((o) => 'code' in o)).toBe(true);
    const stored = await facts(store);
    const accepted = outcomes.flatMap((o, i) => ('ok' in o ? [`big-${i}`] : []));
    expect(stored.slice(1).map((e) => e.streamId)).toEqual(accepted);
    expect(stored.map((e) => e.position)).toEqual(stored.map((_, i) => i + 1));
    await store.close();
  });

  it('commits appends still queued when the store closes, and refuses appends after it', async () => {
    const path = freshPath();
    const store = createSqliteEventStore({ path });
    const queued = store.appendToStream('acc-1', [ev('Opened')]);
    await store.close();
    await expect(queued).resolves.toEqual({ nextExpectedVersion: 1, lastPosition: 1 });
    await expect(store.appendToStream('acc-1', [ev('Late')])).rejects.toSatisfy(isStoreClosedError);
    const reopened = createSqliteEventStore({ path });
    expect((await facts(reopened)).map((e) => e.type)).toEqual(['Opened']);
    await reopened.close();
  });

  it('lets a read issued right after an append see it, and live subscribers receive every event of the group in order', async () => {
    const store = createSqliteEventStore({ path: freshPath() });
    const seen: string[] = [];
    const sub = store.subscribe({ name: 'live', handler: (e) => void seen.push(e.streamId) });
    const appended = Array.from({ length: 5 }, (_, i) => store.appendToStream(`s-${i}`, [ev('A')]));
    const read = store.readStream('s-4');
    expect((await read).map((e) => e.type)).toEqual(['A']);
    await Promise.all(appended);
    await sub.waitFor(5);
    expect(seen).toEqual(['s-0', 's-1', 's-2', 's-3', 's-4']);
    await sub.stop();
    await store.close();
  });
});
