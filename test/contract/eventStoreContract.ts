/**
 * The EventStore contract, written once and run against every implementation (memory,
 * SQLite, MongoDB). Each implementation's test file calls `eventStoreContract` with a
 * factory that returns a fresh, empty store.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  isConcurrencyError,
  isEventloomError,
  isIdempotencyConflictError,
  isValidationError,
} from '../../src/core/errors.js';
import type {
  EventData,
  EventStore,
  ExpectedVersion,
  RecordedEvent,
} from '../../src/core/types.js';

export interface ContractHarness {
  /** A fresh empty store. */
  create(): Promise<EventStore>;
  /** A second handle on the same data as `store` (a restart). Optional. */
  reopen?(store: EventStore): Promise<EventStore>;
  /** Scale for the concurrency tests (slower backends use less). Default 1. */
  scale?: number;
}

export const ev = (type: string, data: unknown = {}, id?: string): EventData =>
  id === undefined ? { type, data } : { type, data, id };

async function expectRejects(
  p: Promise<unknown>,
  guard: (e: unknown) => boolean,
): Promise<unknown> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected the call to fail').toBeDefined();
  expect(guard(caught), `unexpected error: ${String(caught)}`).toBe(true);
  return caught;
}

/** Resolves every caller's promise once `parties` callers are waiting. */
function barrier(parties: number): () => Promise<void> {
  let waiting = 0;
  let release!: () => void;
  const open = new Promise<void>((resolve) => (release = resolve));
  return () => {
    if (++waiting === parties) release();
    return open;
  };
}

/** `fresh()` opens a store that is closed after the test, as is every store pushed to `open`. */
export function freshStores(harness: ContractHarness): {
  open: EventStore[];
  fresh: () => Promise<EventStore>;
} {
  const open: EventStore[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });
  return {
    open,
    fresh: async () => {
      const s = await harness.create();
      open.push(s);
      return s;
    },
  };
}

function uid(prefix: string): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 10)}`;
}

export function eventStoreContract(name: string, harness: ContractHarness): void {
  const scale = harness.scale ?? 1;
  describe(`EventStore contract: ${name}`, () => {
    const { open, fresh } = freshStores(harness);

    describe('appending and reading', () => {
      it('numbers a new stream from version 1 and positions strictly increasing', async () => {
        const store = await fresh();
        const r1 = await store.appendToStream('order-1', [
          ev('OrderPlaced', { total: 5 }),
          ev('OrderPaid'),
        ]);
        const r2 = await store.appendToStream('order-2', [ev('OrderPlaced', { total: 7 })]);
        expect(r1.nextExpectedVersion).toBe(2);
        expect(r2.nextExpectedVersion).toBe(1);
        expect(r2.lastPosition).toBeGreaterThan(r1.lastPosition);
        const events = await store.readStream('order-1');
        expect(events.map((e) => [e.type, e.version])).toEqual([
          ['OrderPlaced', 1],
          ['OrderPaid', 2],
        ]);
        const [first] = events as [RecordedEvent];
        expect(first.streamId).toBe('order-1');
        expect(first.data).toEqual({ total: 5 });
        expect(first.metadata).toEqual({});
        expect(typeof first.id).toBe('string');
        expect(first.recordedAt).toBeInstanceOf(Date);
        expect(events[1]!.position).toBe(r1.lastPosition);
        expect(events[1]!.position).toBeGreaterThan(first.position);
      });

      it('keeps the given event id, data and metadata exactly', async () => {
        const store = await fresh();
        const data = { nested: { list: [1, 'two', null, true] }, when: '2020-01-01T00:00:00.000Z' };
        await store.appendToStream('doc-1', [
          { id: 'evt-1', type: 'Written', data, metadata: { correlationId: 'c-1' } },
        ]);
        const [e] = await store.readStream('doc-1');
        expect(e).toMatchObject({
          id: 'evt-1',
          type: 'Written',
          data,
          metadata: { correlationId: 'c-1' },
        });
      });

      it('reads a stream forwards and backwards from a version with a maximum count', async () => {
        const store = await fresh();
        await store.appendToStream(
          's-1',
          Array.from({ length: 10 }, (_, i) => ev('E', { i })),
        );
        const v = (es: RecordedEvent[]): number[] => es.map((e) => e.version);
        expect(v(await store.readStream('s-1', { from: 4, maxCount: 3 }))).toEqual([4, 5, 6]);
        expect(v(await store.readStream('s-1', { direction: 'backwards', maxCount: 3 }))).toEqual([
          10, 9, 8,
        ]);
        expect(v(await store.readStream('s-1', { direction: 'backwards', from: 2 }))).toEqual([
          2, 1,
        ]);
        expect(v(await store.readStream('s-1', { from: 11 }))).toEqual([]);
        expect(await store.readStream('missing-1')).toEqual([]);
      });

      it('reads all streams in global order, from an inclusive position, with and without a limit', async () => {
        const store = await fresh();
        for (let i = 0; i < 5; i++) await store.appendToStream(`s-${i % 2}`, [ev('E', { i })]);
        const all = await store.readAll();
        expect(all.map((e) => (e.data as { i: number }).i)).toEqual([0, 1, 2, 3, 4]);
        const from = all[2]!.position;
        const tail = await store.readAll({ from });
        expect(tail.map((e) => e.position)).toEqual(all.slice(2).map((e) => e.position));
        expect((await store.readAll({ from, maxCount: 2 })).map((e) => e.position)).toEqual(
          all.slice(2, 4).map((e) => e.position),
        );
        expect(await store.headPosition()).toBe(all[4]!.position);
      });

      it('reports whether a stream exists and its version', async () => {
        const store = await fresh();
        expect(await store.streamInfo('acc-1')).toMatchObject({
          exists: false,
          version: 0,
          deleted: false,
        });
        await store.appendToStream('acc-1', [ev('Opened'), ev('Deposited')]);
        expect(await store.streamInfo('acc-1')).toMatchObject({
          exists: true,
          version: 2,
          deleted: false,
        });
      });
    });

    describe('expected version', () => {
      type State = 'none' | 'at-2' | 'deleted-at-2';
      const cases: [State, ExpectedVersion, boolean][] = [
        ['none', 'any', true],
        ['none', 'no_stream', true],
        ['none', 'stream_exists', false],
        ['none', 0, true],
        ['none', 1, false],
        ['at-2', 'any', true],
        ['at-2', 'no_stream', false],
        ['at-2', 'stream_exists', true],
        ['at-2', 2, true],
        ['at-2', 1, false],
        ['at-2', 3, false],
        ['at-2', 0, false],
        ['deleted-at-2', 'any', true],
        ['deleted-at-2', 'no_stream', true],
        ['deleted-at-2', 'stream_exists', false],
        ['deleted-at-2', 2, true],
        ['deleted-at-2', 0, false],
      ];
      it.each(cases)(
        'on a stream that is %s, expecting %s succeeds: %s',
        async (state, expected, ok) => {
          const store = await fresh();
          const id = uid('m');
          if (state !== 'none') await store.appendToStream(id, [ev('A'), ev('B')]);
          if (state === 'deleted-at-2') await store.deleteStream(id);
          const before = await store.readAll();
          const attempt = store.appendToStream(id, [ev('C')], { expectedVersion: expected });
          if (ok) {
            const r = await attempt;
            expect(r.nextExpectedVersion).toBe(state === 'none' ? 1 : 3);
          } else {
            const e = await expectRejects(attempt, isConcurrencyError);
            expect(e).toMatchObject({
              expectedVersion: expected,
              actualVersion: state === 'none' ? 0 : 2,
              streamId: id,
            });
            expect(await store.readAll()).toHaveLength(before.length);
          }
        },
      );
    });

    describe('atomicity and idempotency', () => {
      it('writes nothing of a batch when one event in it is invalid', async () => {
        const store = await fresh();
        await store.appendToStream('b-1', [ev('A')]);
        const bad = [ev('B'), ev('C'), { type: 'D', data: { fn: () => 1 } } as EventData];
        const e = await expectRejects(store.appendToStream('b-1', bad), isValidationError);
        expect((e as Error).message).toContain('events[2].data.fn');
        expect((await store.readStream('b-1')).map((x) => x.type)).toEqual(['A']);
      });

      it('appends a multi-event batch as one unit that concurrent readers see whole', async () => {
        const store = await fresh();
        const batch = Array.from({ length: 50 }, (_, i) => ev('Line', { i }));
        const reads: number[] = [];
        await Promise.all([
          store.appendToStream('batch-1', batch),
          ...Array.from({ length: 5 }, async () =>
            reads.push((await store.readStream('batch-1')).length),
          ),
        ]);
        for (const n of reads) expect([0, 50]).toContain(n);
        const positions = (await store.readStream('batch-1')).map((e) => e.position);
        expect(new Set(positions).size).toBe(50);
      });

      it('succeeds without duplicates when the same events are re-appended at the same place', async () => {
        const store = await fresh();
        const batch = [ev('A', {}, 'id-a'), ev('B', {}, 'id-b')];
        const first = await store.appendToStream('i-1', batch, { expectedVersion: 'no_stream' });
        const again = await store.appendToStream('i-1', batch, { expectedVersion: 'no_stream' });
        const any = await store.appendToStream('i-1', batch, { expectedVersion: 'any' });
        const exact = await store.appendToStream('i-1', batch, { expectedVersion: 0 });
        expect(again).toEqual(first);
        expect(any).toEqual(first);
        expect(exact).toEqual(first);
        await store.appendToStream('i-1', [ev('C')], { expectedVersion: 2 });
        expect(await store.appendToStream('i-1', batch, { expectedVersion: 0 })).toEqual(first);
        expect((await store.readStream('i-1')).map((e) => e.id).slice(0, 2)).toEqual([
          'id-a',
          'id-b',
        ]);
        expect(await store.readAll()).toHaveLength(3);
      });

      it('rejects a re-append that only partly matches or lands elsewhere', async () => {
        const store = await fresh();
        await store.appendToStream('p-1', [ev('A', {}, 'pa'), ev('B', {}, 'pb')]);
        await expectRejects(
          store.appendToStream('p-1', [ev('A', {}, 'pa'), ev('X', {}, 'px')]),
          isIdempotencyConflictError,
        );
        await expectRejects(
          store.appendToStream('p-2', [ev('A', {}, 'pa')]),
          isIdempotencyConflictError,
        );
        await expectRejects(
          store.appendToStream('p-1', [ev('New', {}, 'pn'), ev('B', {}, 'pb')]),
          isIdempotencyConflictError,
        );
        expect(await store.readAll()).toHaveLength(2);
      });
    });

    describe('soft delete', () => {
      it('hides a deleted stream from reads but keeps its events in the global log', async () => {
        const store = await fresh();
        await store.appendToStream('d-1', [ev('A'), ev('B')]);
        await store.appendToStream('d-2', [ev('Z')]);
        await store.deleteStream('d-1', { expectedVersion: 2 });
        expect(await store.readStream('d-1')).toEqual([]);
        expect(await store.streamInfo('d-1')).toMatchObject({
          exists: false,
          deleted: true,
          version: 2,
        });
        expect(await store.readAll()).toHaveLength(3);
        const r = await store.appendToStream('d-1', [ev('C')], { expectedVersion: 'no_stream' });
        expect(r.nextExpectedVersion).toBe(3);
        expect((await store.readStream('d-1')).map((e) => e.type)).toEqual(['C']);
      });

      it('refuses to delete with a stale expected version', async () => {
        const store = await fresh();
        await store.appendToStream('d-3', [ev('A'), ev('B')]);
        await expectRejects(store.deleteStream('d-3', { expectedVersion: 1 }), isConcurrencyError);
        expect(await store.readStream('d-3')).toHaveLength(2);
      });
    });

    describe('bad input', () => {
      const bad: [string, (s: EventStore) => Promise<unknown>, string][] = [
        ['an empty stream id', (s) => s.appendToStream('', [ev('A')]), 'streamId'],
        ['a blank stream id', (s) => s.appendToStream('  ', [ev('A')]), 'streamId'],
        ['no events', (s) => s.appendToStream('x-1', []), 'events'],
        [
          'a missing type',
          (s) => s.appendToStream('x-1', [{ data: {} } as unknown as EventData]),
          'events[0].type',
        ],
        [
          'a bigint payload',
          (s) => s.appendToStream('x-1', [ev('A', { n: 1n })]),
          'events[0].data.n',
        ],
        [
          'NaN in a payload',
          (s) => s.appendToStream('x-1', [ev('A', { n: NaN })]),
          'events[0].data.n',
        ],
        [
          'a circular payload',
          (s) => {
            const o: Record<string, unknown> = {};
            o.self = o;
            return s.appendToStream('x-1', [ev('A', o)]);
          },
          'events[0].data.self',
        ],
        [
          'an invalid expected version',
          (s) => s.appendToStream('x-1', [ev('A')], { expectedVersion: -1 }),
          'expectedVersion',
        ],
        [
          'a string expected version',
          (s) =>
            s.appendToStream('x-1', [ev('A')], { expectedVersion: 'latest' as ExpectedVersion }),
          'expectedVersion',
        ],
        [
          'a bigger-than-allowed batch',
          (s) =>
            s.appendToStream(
              'x-1',
              Array.from({ length: 10_001 }, () => ev('A')),
            ),
          'events',
        ],
        [
          'duplicate ids in one batch',
          (s) => s.appendToStream('x-1', [ev('A', {}, 'd'), ev('B', {}, 'd')]),
          'events[1].id',
        ],
        ['a negative readAll position', (s) => s.readAll({ from: -5 }), 'options.from'],
        [
          'a fractional maxCount',
          (s) => s.readStream('x-1', { maxCount: 1.5 }),
          'options.maxCount',
        ],
      ];
      it.each(bad)(
        'rejects %s with a validation error naming the place',
        async (_what, call, path) => {
          const store = await fresh();
          await store.appendToStream('x-1', [ev('Kept')]);
          const e = await expectRejects(call(store), isValidationError);
          expect((e as Error).message).toContain(path);
          expect(isEventloomError(e)).toBe(true);
          expect((await store.readAll()).map((x) => x.type)).toEqual(['Kept']);
        },
      );
    });

    describe('concurrency', () => {
      it('turns every lost race into a typed ConcurrencyError and loses or duplicates nothing', async () => {
        const store = await fresh();
        const streams = ['race-a', 'race-b', 'race-c'];
        const writers = 8;
        const attemptsPerWriter = Math.max(5, Math.round(25 * scale));
        const committed: string[] = [];
        let conflicts = 0;
        // In the first round every writer reads its stream's version before any of them
        // writes, so writers sharing a stream really race for the same version.
        const allHaveRead = barrier(writers);
        await Promise.all(
          Array.from({ length: writers }, async (_, w) => {
            for (let a = 0; a < attemptsPerWriter; a++) {
              const streamId = streams[(w + a) % streams.length]!;
              const { version } = await store.streamInfo(streamId);
              if (a === 0) await allHaveRead();
              const ids = [`w${w}-a${a}-0`, `w${w}-a${a}-1`];
              try {
                await store.appendToStream(
                  streamId,
                  ids.map((id) => ev('Written', { w, a }, id)),
                  { expectedVersion: version === 0 ? 'no_stream' : version },
                );
                committed.push(...ids);
              } catch (e) {
                if (!isConcurrencyError(e)) throw e;
                expect(e.streamId).toBe(streamId);
                expect(e.actualVersion).toBeGreaterThanOrEqual(version);
                conflicts++;
              }
            }
          }),
        );
        const all = await store.readAll();
        expect(all.map((e) => e.id).sort()).toEqual([...committed].sort());
        expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
        for (const s of streams) {
          const events = await store.readStream(s);
          expect(events.map((e) => e.version)).toEqual(events.map((_, i) => i + 1));
          // A batch is never split by another writer.
          for (let i = 0; i < events.length; i += 2) {
            expect(events[i]!.id.replace(/-0$/, '')).toBe(events[i + 1]!.id.replace(/-1$/, ''));
          }
        }
        for (let i = 1; i < all.length; i++)
          expect(all[i]!.position).toBeGreaterThan(all[i - 1]!.position);
        expect(committed.length / 2 + conflicts).toBe(writers * attemptsPerWriter);
        // The first round alone has one winner per stream, so the race was real.
        expect(conflicts).toBeGreaterThanOrEqual(writers - streams.length);
      });

      it('delivers every event exactly once in order to a subscriber that runs while writers append', async () => {
        const store = await fresh();
        const seen: RecordedEvent[] = [];
        const sub = store.subscribe({ name: uid('live'), handler: (e) => void seen.push(e) });
        const writers = 6;
        const perWriter = Math.max(10, Math.round(40 * scale));
        await Promise.all(
          Array.from({ length: writers }, async (_, w) => {
            for (let i = 0; i < perWriter; i++) {
              await store.appendToStream(`live-${w % 3}`, [
                ev('Tick', { w, i }),
                ev('Tock', { w, i }),
              ]);
            }
          }),
        );
        const head = await store.headPosition();
        await sub.waitFor(head);
        await sub.stop();
        const all = await store.readAll();
        expect(seen.map((e) => e.id)).toEqual(all.map((e) => e.id));
        expect(seen).toHaveLength(writers * perWriter * 2);
        for (let i = 1; i < seen.length; i++)
          expect(seen[i]!.position).toBeGreaterThan(seen[i - 1]!.position);
      });
      it('gives each of many concurrent appends to distinct streams its own versions and positions, in a gap-free order', async () => {
        const store = await fresh();
        const callers = 32;
        const rounds = Math.max(2, Math.round(4 * scale));
        const results = await Promise.all(
          Array.from({ length: callers }, async (_, c) => {
            const mine: { streamId: string; version: number; lastPosition: number }[] = [];
            for (let r = 0; r < rounds; r++) {
              const streamId = `many-${c}`;
              const count = (c % 3) + 1;
              const got = await store.appendToStream(
                streamId,
                Array.from({ length: count }, (_, i) => ev('Many', { c, r, i })),
                { expectedVersion: r === 0 ? 'no_stream' : mine.at(-1)!.version },
              );
              expect(got.nextExpectedVersion).toBe((r + 1) * count);
              mine.push({
                streamId,
                version: got.nextExpectedVersion,
                lastPosition: got.lastPosition,
              });
            }
            return mine;
          }),
        );
        const all = await store.readAll();
        expect(all.map((e) => e.position)).toEqual(all.map((_, i) => all[0]!.position + i));
        const at = new Map(all.map((e) => [e.position, e]));
        for (const r of results.flat()) {
          // Each caller's result names where its own last event landed.
          expect(at.get(r.lastPosition)).toMatchObject({
            streamId: r.streamId,
            version: r.version,
          });
        }
      });
    });

    describe('subscriptions', () => {
      it('continues from its durable checkpoint after a restart, skipping nothing', async () => {
        const store = await fresh();
        const name = uid('restart');
        for (let i = 0; i < 20; i++) await store.appendToStream('c-1', [ev('E', { i })]);
        const firstRun: number[] = [];
        const sub1 = store.subscribe({
          name,
          handler: (e) => void firstRun.push((e.data as { i: number }).i),
        });
        await sub1.waitFor(await store.headPosition());
        await sub1.stop();
        for (let i = 20; i < 30; i++) await store.appendToStream('c-1', [ev('E', { i })]);

        const reopened = harness.reopen ? await harness.reopen(store) : store;
        if (reopened !== store) open.push(reopened);
        const secondRun: number[] = [];
        const sub2 = reopened.subscribe({
          name,
          handler: (e) => void secondRun.push((e.data as { i: number }).i),
        });
        await sub2.waitFor(await reopened.headPosition());
        await sub2.stop();
        expect(firstRun).toEqual(Array.from({ length: 20 }, (_, i) => i));
        expect(secondRun).toEqual(Array.from({ length: 10 }, (_, i) => i + 20));
        expect(await reopened.checkpoints.load(name)).toBe(await reopened.headPosition());
      });

      it("starts at 'end' or at an inclusive position when it has no checkpoint", async () => {
        const store = await fresh();
        const { lastPosition } = await store.appendToStream('f-1', [ev('A'), ev('B'), ev('C')]);
        const fromEnd: string[] = [];
        const fromPos: string[] = [];
        const s1 = store.subscribe({
          name: uid('end'),
          from: 'end',
          handler: (e) => void fromEnd.push(e.type),
        });
        const s2 = store.subscribe({
          name: uid('pos'),
          from: lastPosition - 1,
          handler: (e) => void fromPos.push(e.type),
        });
        await Promise.all([s1.started, s2.waitFor(lastPosition)]);
        const { lastPosition: p2 } = await store.appendToStream('f-1', [ev('D')]);
        await Promise.all([s1.waitFor(p2), s2.waitFor(p2)]);
        await Promise.all([s1.stop(), s2.stop()]);
        expect(fromEnd).toEqual(['D']);
        expect(fromPos).toEqual(['B', 'C', 'D']);
      });

      it('retries a failing handler with backoff, then parks the poison event and keeps going', async () => {
        const store = await fresh();
        const name = uid('poison');
        await store.appendToStream('q-1', [
          ev('Ok', { n: 1 }),
          ev('Poison', { n: 2 }),
          ev('Ok', { n: 3 }),
        ]);
        const handled: number[] = [];
        let poisonAttempts = 0;
        const notices: string[] = [];
        const sub = store.subscribe({
          name,
          retry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 5 },
          onEvent: (n) => notices.push(n.kind),
          handler: (e) => {
            if (e.type === 'Poison') {
              poisonAttempts++;
              throw new Error('cannot handle poison');
            }
            handled.push((e.data as { n: number }).n);
          },
        });
        await sub.waitFor(await store.headPosition());
        await sub.stop();
        expect(handled).toEqual([1, 3]);
        expect(poisonAttempts).toBe(3);
        expect(notices.filter((k) => k === 'retry')).toHaveLength(2);
        const parked = await store.checkpoints.listParked(name);
        expect(parked).toHaveLength(1);
        expect(parked[0]).toMatchObject({
          reason: 'cannot handle poison',
          attempts: 3,
          subscription: name,
        });
        expect(parked[0]!.event.type).toBe('Poison');
        expect(sub.status().parked).toBe(1);
      });

      it("stops loudly on a poison event with onPoison 'stop' and resumes at that event next time", async () => {
        const store = await fresh();
        const name = uid('stop');
        await store.appendToStream('q-2', [ev('Ok'), ev('Poison'), ev('Ok')]);
        const sub = store.subscribe({
          name,
          onPoison: 'stop',
          retry: { maxAttempts: 2, initialDelayMs: 1 },
          handler: (e) => {
            if (e.type === 'Poison') throw new Error('boom');
          },
        });
        await expect(sub.done).rejects.toThrow(/boom/);
        expect(sub.status().state).toBe('failed');
        const types: string[] = [];
        const again = store.subscribe({ name, handler: (e) => void types.push(e.type) });
        await again.waitFor(await store.headPosition());
        await again.stop();
        expect(types).toEqual(['Poison', 'Ok']);
      });

      it('does not miss an append made while its handler was busy, even with a long poll interval', async () => {
        const store = await fresh();
        await store.appendToStream('w-1', [ev('First')]);
        let appendedDuringHandler: Promise<{ lastPosition: number }> | undefined;
        const got: string[] = [];
        const sub = store.subscribe({
          name: uid('wakeup'),
          pollIntervalMs: 20_000,
          handler: async (e) => {
            got.push(e.type);
            if (e.type === 'First') {
              appendedDuringHandler = store.appendToStream('w-1', [ev('Second')]);
              await appendedDuringHandler;
            }
          },
        });
        await sub.waitFor(1, 5000);
        const { lastPosition } = await appendedDuringHandler!;
        await sub.waitFor(lastPosition, 5000);
        await sub.stop();
        expect(got).toEqual(['First', 'Second']);
      });

      it('delivers only the requested event types but still advances past the others', async () => {
        const store = await fresh();
        const name = uid('types');
        await store.appendToStream('t-1', [ev('A'), ev('B'), ev('A')]);
        const got: string[] = [];
        const sub = store.subscribe({
          name,
          eventTypes: ['A'],
          handler: (e) => void got.push(e.type),
        });
        await sub.waitFor(await store.headPosition());
        await sub.stop();
        expect(got).toEqual(['A', 'A']);
        expect(await store.checkpoints.load(name)).toBe(await store.headPosition());
      });
    });

    describe('properties', () => {
      it('keeps per-stream versions contiguous and global positions increasing for any schedule of appends', async () => {
        type Op = {
          stream: number;
          count: number;
          expect: 'current' | 'stale' | 'any' | 'no_stream' | 'exists';
        };
        const op = fc.record<Op>({
          stream: fc.integer({ min: 0, max: 3 }),
          count: fc.integer({ min: 1, max: 3 }),
          expect: fc.constantFrom('current', 'stale', 'any', 'no_stream', 'exists'),
        });
        await fc.assert(
          fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async (ops) => {
            const store = await harness.create();
            try {
              const model = new Map<number, number>();
              let total = 0;
              for (const o of ops) {
                const v = model.get(o.stream) ?? 0;
                const expected: ExpectedVersion =
                  o.expect === 'current'
                    ? v
                    : o.expect === 'stale'
                      ? v + 1
                      : o.expect === 'exists'
                        ? 'stream_exists'
                        : o.expect;
                const shouldPass =
                  o.expect === 'current' ||
                  o.expect === 'any' ||
                  (o.expect === 'no_stream' && v === 0) ||
                  (o.expect === 'exists' && v > 0);
                const batch = Array.from({ length: o.count }, () => ev('P', { s: o.stream }));
                try {
                  const r = await store.appendToStream(`prop-${o.stream}`, batch, {
                    expectedVersion: expected,
                  });
                  expect(shouldPass).toBe(true);
                  expect(r.nextExpectedVersion).toBe(v + o.count);
                  model.set(o.stream, v + o.count);
                  total += o.count;
                } catch (e) {
                  if (!isConcurrencyError(e)) throw e;
                  expect(shouldPass).toBe(false);
                  expect(e.actualVersion).toBe(v);
                }
              }
              const all = await store.readAll();
              expect(all).toHaveLength(total);
              for (let i = 1; i < all.length; i++)
                expect(all[i]!.position).toBeGreaterThan(all[i - 1]!.position);
              for (const [s, v] of model) {
                const events = await store.readStream(`prop-${s}`);
                expect(events.map((e) => e.version)).toEqual(
                  Array.from({ length: v }, (_, i) => i + 1),
                );
              }
              // Paging readAll from any position yields exactly the tail.
              if (all.length > 0) {
                const mid = all[Math.floor(all.length / 2)]!.position;
                expect((await store.readAll({ from: mid })).map((e) => e.id)).toEqual(
                  all.filter((e) => e.position >= mid).map((e) => e.id),
                );
              }
            } finally {
              await store.close();
            }
          }),
          { numRuns: Math.max(10, Math.round(40 * scale)) },
        );
      });
    });
  });
}
