/**
 * Edge cases of the append path and of the global order, written once and run against every
 * store (memory, SQLite, MongoDB): failed appends, paging past skipped positions, malformed
 * and oversized input, idempotent re-appends, contention on one stream.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isConcurrencyError,
  isIdempotencyConflictError,
  isRetryableError,
  isValidationError,
} from '../../src/core/errors.js';
import { createMemoryDocuments } from '../../src/core/memoryDocumentStore.js';
import { rebuildProjection } from '../../src/core/projections.js';
import type { Projection } from '../../src/core/readModel.js';
import type {
  EventData,
  EventStore,
  ExpectedVersion,
  RecordedEvent,
} from '../../src/core/types.js';
import { type ContractHarness, ev, freshStores } from './eventStoreContract.js';

export interface AppendEdgesHarness extends ContractHarness {
  /**
   * Leaves `count` skipped positions at the end of the log, as appends that failed in another
   * process do. Only for stores whose positions may skip numbers (MongoDB).
   */
  leaveGaps?(store: EventStore, count: number): Promise<void>;
}

let counter = 0;
const uid = (prefix: string): string => `${prefix}-${Date.now().toString(36)}-${counter++}`;

/** Appends `n` times with `no_stream` to an existing stream; each must fail as a conflict. */
async function failingAppends(store: EventStore, streamId: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await expect(
      store.appendToStream(streamId, [ev('Never')], { expectedVersion: 'no_stream' }),
    ).rejects.toSatisfy(isConcurrencyError);
  }
}

export function appendEdgesContract(name: string, harness: AppendEdgesHarness): void {
  const scale = harness.scale ?? 1;
  describe(`EventStore append edges: ${name}`, () => {
    const { open, fresh } = freshStores(harness);
    /** Failed appends, plus skipped positions where the store can have them. */
    const burn = async (store: EventStore, streamId: string, n: number): Promise<void> => {
      await failingAppends(store, streamId, n);
      await harness.leaveGaps?.(store, n);
    };

    describe('global order past failed appends', () => {
      it('returns full pages of readAll past positions left by failed appends', async () => {
        const store = await fresh();
        await store.appendToStream('a', [ev('A')]);
        await burn(store, 'a', 3);
        const b = await store.appendToStream('b', [ev('B')]);
        const page = await store.readAll({ from: 2, maxCount: 3 });
        expect(page.map((e) => e.type)).toEqual(['B']);
        expect(page[0]!.position).toBe(b.lastPosition);
        await burn(store, 'a', 2);
        await store.appendToStream('c', [ev('C1'), ev('C2')]);
        const all = await store.readAll();
        expect(all.map((e) => e.type)).toEqual(['A', 'B', 'C1', 'C2']);
        for (const size of [1, 2, 3]) {
          const paged: string[] = [];
          for (let from = 0; ;) {
            const chunk = await store.readAll({ from, maxCount: size });
            const expected = all.filter((e) => e.position >= from).slice(0, size);
            expect(chunk.map((e) => e.id)).toEqual(expected.map((e) => e.id));
            if (chunk.length === 0) break;
            paged.push(...chunk.map((e) => e.type));
            from = chunk[chunk.length - 1]!.position + 1;
          }
          expect(paged).toEqual(['A', 'B', 'C1', 'C2']);
        }
      });

      it('delivers to a live subscriber an event appended after 1,000 failed appends', async () => {
        const store = await fresh();
        await store.appendToStream('acct-1', [ev('Opened')]);
        const seen: string[] = [];
        const sub = store.subscribe({ name: uid('gaps'), handler: (e) => void seen.push(e.type) });
        await sub.waitFor(1);
        await burn(store, 'acct-1', 1000);
        const { lastPosition } = await store.appendToStream('acct-2', [ev('Opened2')]);
        await sub.waitFor(lastPosition);
        await sub.stop();
        expect(seen).toEqual(['Opened', 'Opened2']);
      }, 60_000);

      it('rebuilds a projection over every event although pages of positions are skipped', async () => {
        const store = await fresh();
        const typesSeen: string[] = [];
        const projection: Projection = {
          name: uid('rebuild'),
          collections: ['counts'],
          handle: (e) => void typesSeen.push(e.type),
        };
        await store.appendToStream('r-1', [ev('E1')]);
        await burn(store, 'r-1', 250);
        await store.appendToStream('r-2', [ev('E2')]);
        await burn(store, 'r-1', 250);
        const { lastPosition } = await store.appendToStream('r-3', [ev('E3'), ev('E4')]);
        const progress = await rebuildProjection({
          store,
          projection,
          target: createMemoryDocuments().target,
          batchSize: 100,
        });
        expect(typesSeen).toEqual(['E1', 'E2', 'E3', 'E4']);
        expect(progress).toMatchObject({ processed: 4, position: lastPosition, ratio: 1 });
      }, 60_000);

      it('keeps the head at the last event when positions after it were skipped', async () => {
        const store = await fresh();
        const { lastPosition } = await store.appendToStream('h-1', [ev('A')]);
        await burn(store, 'h-1', 3);
        expect(await store.headPosition()).toBe(lastPosition);
        const sub = store.subscribe({ name: uid('head'), handler: () => undefined });
        await sub.waitFor(await store.headPosition());
        await sub.stop();
      });

      it('does not move the head when reading past the end of an empty log', async () => {
        const store = await fresh();
        expect(await store.readAll({ from: 100 })).toEqual([]);
        expect(await store.readAll({ from: 100, maxCount: 5 })).toEqual([]);
        expect(await store.headPosition()).toBe(0);
        const seen: string[] = [];
        const sub = store.subscribe({
          name: uid('end'),
          from: 'end',
          handler: (e) => void seen.push(e.type),
        });
        // `from: 'end'` resolves the head asynchronously; once live, the next append is new.
        await expect.poll(() => sub.status().state).toBe('live');
        const { lastPosition } = await store.appendToStream('h-2', [ev('First')]);
        expect(await store.headPosition()).toBe(lastPosition);
        await sub.waitFor(await store.headPosition());
        await sub.stop();
        expect(seen).toEqual(['First']);
      });
    });

    describe('malformed input is refused before anything is written', () => {
      const rejected: [string, (s: EventStore) => Promise<unknown>, string][] = [
        [
          'a sparse events array',
          // eslint-disable-next-line no-sparse-arrays
          (s) => s.appendToStream('x-1', [, ev('X')] as EventData[]),
          'events[0]',
        ],
        [
          'a sparse array inside event data',
          // eslint-disable-next-line no-sparse-arrays
          (s) => s.appendToStream('x-1', [ev('X', { list: [1, , 3] })]),
          'events[0].data.list[1]',
        ],
        [
          'undefined inside an array of event data',
          (s) => s.appendToStream('x-1', [ev('X', { list: [1, undefined] })]),
          'events[0].data.list[1]',
        ],
        [
          'a Date in event data',
          (s) => s.appendToStream('x-1', [ev('X', { when: new Date(0) })]),
          'events[0].data.when',
        ],
        [
          'a Date in metadata',
          (s) => s.appendToStream('x-1', [{ type: 'X', data: {}, metadata: { at: new Date(0) } }]),
          'events[0].metadata.at',
        ],
        [
          'event data nested 5,000 levels deep',
          (s) => {
            let deep: unknown = 1;
            for (let i = 0; i < 5000; i++) deep = { d: deep };
            return s.appendToStream('x-1', [ev('X', deep)]);
          },
          'events[0].data.d.d',
        ],
        [
          'a stream id with a lone high surrogate',
          (s) => s.appendToStream('acct-\uD800', [ev('X')]),
          'streamId',
        ],
        ['a stream id with a lone low surrogate', (s) => s.readStream('acct-\uDC00'), 'streamId'],
        [
          'an event type with a lone surrogate',
          (s) => s.appendToStream('x-1', [ev('X\uDBFF')]),
          'events[0].type',
        ],
        [
          'an event id with a lone surrogate',
          (s) => s.appendToStream('x-1', [ev('X', {}, 'id-\uD800')]),
          'events[0].id',
        ],
        [
          'a data string with a lone surrogate',
          (s) => s.appendToStream('x-1', [ev('X', { name: 'a\uD800b' })]),
          'events[0].data.name',
        ],
        [
          'a data key with a lone surrogate',
          (s) => s.appendToStream('x-1', [ev('X', { ['k\uDFFF']: 1 })]),
          'events[0].data',
        ],
        [
          'a data key with a NUL character',
          (s) => s.appendToStream('x-1', [ev('X', { nested: { ['a\u0000b']: 1 } })]),
          'events[0].data.nested',
        ],
        [
          'a metadata string with a lone surrogate',
          (s) => s.appendToStream('x-1', [{ type: 'X', data: {}, metadata: { by: '\uDBFF' } }]),
          'events[0].metadata.by',
        ],
        ['null delete options', (s) => s.deleteStream('x-1', null as never), 'options'],
        [
          'null append options',
          (s) => s.appendToStream('x-1', [ev('X')], null as never),
          'options',
        ],
      ];
      it.each(rejected)(
        'rejects %s with a non-retryable validation error naming the place',
        async (_what, call, path) => {
          const store = await fresh();
          await store.appendToStream('x-1', [ev('Kept')]);
          const error = await call(store).then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(isValidationError(error), `unexpected outcome: ${String(error)}`).toBe(true);
          expect(isRetryableError(error)).toBe(false);
          expect((error as Error).message).toContain(path);
          expect((await store.readAll()).map((e) => e.type)).toEqual(['Kept']);
          expect(await store.streamInfo('x-1')).toMatchObject({ version: 1, exists: true });
        },
      );

      it('keeps well-formed non-ASCII ids, types and data exactly', async () => {
        const store = await fresh();
        const written = {
          id: 'ïd-😀',
          type: 'Créé',
          data: { name: 'Zoë 😀 \u{10FFFF}', ['ключ']: ['🎉'] },
          metadata: { by: 'José' },
        };
        await store.appendToStream('acct-😀', [written]);
        const [{ id, streamId, type, data, metadata }] = (await store.readStream('acct-😀')) as [
          RecordedEvent,
        ];
        expect({ id, streamId, type, data, metadata }).toEqual({ ...written, streamId: 'acct-😀' });
      });

      it('stores event data as plain JSON: undefined properties are dropped', async () => {
        const store = await fresh();
        await store.appendToStream('j-1', [ev('X', { kept: 1, dropped: undefined })]);
        const [e] = await store.readStream('j-1');
        expect(Object.keys(e!.data as object)).toEqual(['kept']);
      });
    });

    describe('size limit', () => {
      it('refuses a 17 MB event as a validation error and hides no later append', async () => {
        const store = await fresh();
        const big = 'x'.repeat(17 * 1024 * 1024);
        const error = await store.appendToStream('big-1', [ev('Big', { big })]).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(isValidationError(error), `unexpected outcome: ${String(error)}`).toBe(true);
        expect(isRetryableError(error)).toBe(false);
        expect((error as Error).message).toMatch(/MiB/);
        const { lastPosition } = await store.appendToStream('big-2', [ev('Small')]);
        const all = await store.readAll();
        expect(all.map((e) => e.type)).toEqual(['Small']);
        expect(await store.headPosition()).toBe(lastPosition);
      }, 60_000);

      it('refuses 10,000 events of 2 KB in one append as a validation error', async () => {
        const store = await fresh();
        const payload = 'y'.repeat(2048);
        const batch = Array.from({ length: 10_000 }, (_, i) => ev('Chunk', { i, payload }));
        await expect(store.appendToStream('big-3', batch)).rejects.toSatisfy(isValidationError);
        const { lastPosition } = await store.appendToStream('big-4', [ev('After')]);
        expect((await store.readAll()).map((e) => e.position)).toEqual([lastPosition]);
      }, 60_000);
    });

    describe('idempotent re-appends', () => {
      it('returns the original result when a no_stream append after a delete is retried', async () => {
        const store = await fresh();
        await store.appendToStream('del-1', [ev('Old')]);
        await store.deleteStream('del-1');
        const batch = [ev('New', { n: 1 }, uid('evt'))];
        const first = await store.appendToStream('del-1', batch, {
          expectedVersion: 'no_stream',
        });
        const again = await store.appendToStream('del-1', batch, {
          expectedVersion: 'no_stream',
        });
        expect(again).toEqual(first);
        expect((await store.readStream('del-1')).map((e) => e.type)).toEqual(['New']);
      });

      it('names the stored event when a re-append lands at another version', async () => {
        const store = await fresh();
        const id = uid('evt');
        await store.appendToStream('w-1', [ev('A', {}, id)], { expectedVersion: 'no_stream' });
        await store.appendToStream('w-1', [ev('B')], { expectedVersion: 1 });
        const error = await store
          .appendToStream('w-1', [ev('A', {}, id)], { expectedVersion: 2 })
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        expect(isIdempotencyConflictError(error), `unexpected outcome: ${String(error)}`).toBe(
          true,
        );
        expect((error as Error).message).toContain(id);
        expect((error as Error).message).toMatch(/version 1/);
        expect((error as Error).message).not.toMatch(/expected 2, actual 2|at version 2 but/);
        expect(await store.readAll()).toHaveLength(2);
      });

      it('refuses the same event id with different data instead of dropping the new data', async () => {
        const store = await fresh();
        const id = uid('evt');
        await store.appendToStream('dd-1', [ev('Paid', { amount: 5 }, id)], {
          expectedVersion: 'no_stream',
        });
        const again = store.appendToStream('dd-1', [ev('Paid', { amount: 7 }, id)], {
          expectedVersion: 'no_stream',
        });
        const error = await again.then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(isIdempotencyConflictError(error), `unexpected outcome: ${String(error)}`).toBe(
          true,
        );
        expect((error as Error).message).toContain(id);
        expect((error as { details: Record<string, unknown> }).details).toMatchObject({
          eventId: id,
        });
        const [stored] = await store.readStream('dd-1');
        expect(stored!.data).toEqual({ amount: 5 });
        expect(await store.readAll()).toHaveLength(1);
      });

      it('treats a re-append whose data has the same fields in another order as the same event', async () => {
        const store = await fresh();
        const id = uid('evt');
        const first = await store.appendToStream(
          'ko-1',
          [ev('Paid', { amount: 5, order: { id: 'o-1', lines: [1, 2] } }, id)],
          { expectedVersion: 'no_stream' },
        );
        const again = await store.appendToStream(
          'ko-1',
          [ev('Paid', { order: { lines: [1, 2], id: 'o-1' }, amount: 5 }, id)],
          { expectedVersion: 'no_stream' },
        );
        expect(again).toEqual(first);
        expect(await store.readAll()).toHaveLength(1);
        // Array order is data, not presentation: it still conflicts.
        await expect(
          store.appendToStream(
            'ko-1',
            [ev('Paid', { amount: 5, order: { id: 'o-1', lines: [2, 1] } }, id)],
            { expectedVersion: 'no_stream' },
          ),
        ).rejects.toSatisfy(isIdempotencyConflictError);
      });
    });

    describe('contention', () => {
      it("never fails 'any' appends that race on one stream", async () => {
        const store = await fresh();
        const results = await Promise.all(
          Array.from({ length: 40 }, (_, i) =>
            store.appendToStream('hot-1', [ev('Hit', { i })], { expectedVersion: 'any' }),
          ),
        );
        expect(results.map((r) => r.nextExpectedVersion).sort((a, b) => a - b)).toEqual(
          Array.from({ length: 40 }, (_, i) => i + 1),
        );
        const events = await store.readStream('hot-1');
        expect(events.map((e) => e.version)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
        expect(await store.readAll()).toHaveLength(40);
      });

      // Only stores with a second handle on the same data (not memory) can race across handles.
      const reopen = harness.reopen;
      if (reopen)
        it("never fails 'any' appends that race on one stream from two handles", async () => {
          const store = await fresh();
          await store.appendToStream('hot-2', [ev('Start')]);
          const other = await reopen(store);
          open.push(other);
          await Promise.all(
            [store, other].flatMap((s, h) =>
              Array.from({ length: 20 }, (_, i) =>
                s.appendToStream('hot-2', [ev('Hit', { h, i })], { expectedVersion: 'any' }),
              ),
            ),
          );
          const events = await store.readStream('hot-2');
          expect(events.map((e) => e.version)).toEqual(Array.from({ length: 41 }, (_, i) => i + 1));
        });
    });

    describe('properties', () => {
      it('shows no stall, gap or duplicate to readers and a live subscriber under concurrent appends that partly fail', async () => {
        type Op =
          | {
              kind: 'append';
              stream: number;
              count: number;
              expect: 'any' | 'no_stream' | 'current' | 'stale';
            }
          | { kind: 'gap'; count: number };
        const append = fc.record({
          kind: fc.constant('append' as const),
          stream: fc.integer({ min: 0, max: 2 }),
          count: fc.integer({ min: 1, max: 3 }),
          expect: fc.constantFrom(
            'any' as const,
            'no_stream' as const,
            'current' as const,
            'stale' as const,
          ),
        });
        const gap = fc.record({
          kind: fc.constant('gap' as const),
          count: fc.integer({ min: 1, max: 4 }),
        });
        const op: fc.Arbitrary<Op> = harness.leaveGaps ? fc.oneof(append, append, gap) : append;
        await fc.assert(
          fc.asyncProperty(
            fc.array(op, { minLength: 1, maxLength: 24 }),
            fc.integer({ min: 1, max: 4 }),
            async (ops, pageSize) => {
              const store = await harness.create();
              const prefix = uid('prop');
              try {
                const delivered: RecordedEvent[] = [];
                const sub = store.subscribe({
                  name: prefix,
                  batchSize: pageSize,
                  pollIntervalMs: 5,
                  handler: (e) => void delivered.push(e),
                });
                const committed = new Set<string>();
                const lanes = [0, 1, 2].map(async (lane) => {
                  for (const [i, o] of ops.entries()) {
                    if (i % 3 !== lane) continue;
                    if (o.kind === 'gap') {
                      await harness.leaveGaps!(store, o.count);
                      continue;
                    }
                    const streamId = `${prefix}-${o.stream}`;
                    const ids = Array.from({ length: o.count }, (_, k) => `${prefix}-${i}-${k}`);
                    let expected: ExpectedVersion;
                    if (o.expect === 'current' || o.expect === 'stale') {
                      const { version } = await store.streamInfo(streamId);
                      expected = o.expect === 'current' ? version : version + 5;
                    } else expected = o.expect;
                    try {
                      await store.appendToStream(
                        streamId,
                        ids.map((id) => ev('P', { i }, id)),
                        { expectedVersion: expected },
                      );
                      ids.forEach((id) => committed.add(id));
                    } catch (e) {
                      if (!isConcurrencyError(e)) throw e;
                    }
                  }
                });
                const reader = (async () => {
                  // Pages read while writers run are ordered and never skip a readable event.
                  for (let round = 0; round < 3; round++) {
                    let from = 0;
                    let last = 0;
                    for (;;) {
                      const page = await store.readAll({ from, maxCount: pageSize });
                      for (const e of page) {
                        expect(e.position).toBeGreaterThan(last);
                        last = e.position;
                      }
                      if (page.length < pageSize) break;
                      from = last + 1;
                    }
                  }
                })();
                await Promise.all([...lanes, reader]);
                const all = await store.readAll();
                expect(all.map((e) => e.id).sort()).toEqual([...committed].sort());
                const paged: string[] = [];
                for (let from = 0; ;) {
                  const page = await store.readAll({ from, maxCount: pageSize });
                  paged.push(...page.map((e) => e.id));
                  if (page.length < pageSize) break;
                  from = page[page.length - 1]!.position + 1;
                }
                expect(paged).toEqual(all.map((e) => e.id));
                await sub.waitFor(await store.headPosition(), 20_000);
                await sub.stop();
                expect(delivered.map((e) => e.id)).toEqual(all.map((e) => e.id));
              } finally {
                await store.close();
              }
            },
          ),
          { numRuns: Math.max(8, Math.round(30 * scale)) },
        );
      }, 120_000);
    });
  });
}
