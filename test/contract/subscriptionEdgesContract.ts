/**
 * Subscription edge cases, written once and run against every store: checkpoint faults,
 * `from: 'end'`, option validation and catch-up fairness. Each store's test file calls
 * `subscriptionEdgesContract` with a factory for a fresh, empty store.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isValidationError, type ValidationError } from '../../src/core/errors.js';
import { withUpcasting } from '../../src/core/upcasting.js';
import type {
  EventStore,
  RecordedEvent,
  SubscribeOptions,
  SubscriptionNotice,
} from '../../src/core/types.js';

export interface SubscriptionEdgesHarness {
  /** A fresh empty store. */
  create(): Promise<EventStore>;
  /**
   * The store knows its head without I/O, so `from: 'end'` is fixed inside `subscribe()`
   * itself (memory, SQLite); elsewhere callers wait for `sub.started`.
   */
  headKnownAtSubscribe: boolean;
}

const deposit = (amount: number) => ({ type: 'Deposited', data: { amount } });

function thrownBy(call: () => unknown): unknown {
  try {
    call();
  } catch (error) {
    return error;
  }
  return undefined;
}

export function subscriptionEdgesContract(name: string, harness: SubscriptionEdgesHarness): void {
  describe(`subscription edges: ${name}`, () => {
    const open: EventStore[] = [];
    const fresh = async (): Promise<EventStore> => {
      const s = await harness.create();
      open.push(s);
      return s;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((s) => s.close()));
    });

    describe('checkpoint faults', () => {
      it('continues from the stored checkpoint when loading it failed once, applying no event twice', async () => {
        const store = await fresh();
        let balance = 0;
        const handler = (e: RecordedEvent): void => {
          balance += (e.data as { amount: number }).amount;
        };
        const { lastPosition } = await store.appendToStream('acc-1', [deposit(10)]);
        const first = store.subscribe({ name: 'balance', handler });
        await first.waitFor(lastPosition);
        await first.stop();
        expect(await store.checkpoints.load('balance')).toBe(lastPosition);

        const load = store.checkpoints.load.bind(store.checkpoints);
        let failures = 0;
        store.checkpoints.load = (n) =>
          failures++ === 0 ? Promise.reject(new Error('checkpoint store unreachable')) : load(n);
        const notices: SubscriptionNotice[] = [];
        const second = store.subscribe({
          name: 'balance',
          handler,
          retry: { initialDelayMs: 1 },
          onEvent: (n) => notices.push(n),
        });
        await second.started;
        const { lastPosition: after } = await store.appendToStream('acc-1', [deposit(5)]);
        await second.waitFor(after);
        await second.stop();
        store.checkpoints.load = load;

        expect(balance).toBe(15);
        expect(await store.checkpoints.load('balance')).toBe(after);
        expect(notices.filter((n) => n.kind === 'read-failed')).toHaveLength(1);
      });

      it('leaves the stored checkpoint alone when stopped while its checkpoint cannot be loaded', async () => {
        const store = await fresh();
        const { lastPosition } = await store.appendToStream('acc-1', [deposit(10)]);
        const first = store.subscribe({ name: 'keeper', handler: () => undefined });
        await first.waitFor(lastPosition);
        await first.stop();

        const load = store.checkpoints.load.bind(store.checkpoints);
        store.checkpoints.load = () => Promise.reject(new Error('checkpoint store unreachable'));
        const notices: SubscriptionNotice[] = [];
        const second = store.subscribe({
          name: 'keeper',
          handler: () => undefined,
          retry: { initialDelayMs: 1, maxDelayMs: 5 },
          onEvent: (n) => notices.push(n),
        });
        await vi.waitFor(() => expect(notices.some((n) => n.kind === 'read-failed')).toBe(true));
        await second.stop();
        store.checkpoints.load = load;

        await expect(second.started).rejects.toThrow(/stopped before it started/);
        expect(await store.checkpoints.load('keeper')).toBe(lastPosition);
      });

      it('retries a failed checkpoint save instead of stopping, and ends at the head', async () => {
        const store = await fresh();
        const save = store.checkpoints.save.bind(store.checkpoints);
        let failures = 0;
        store.checkpoints.save = (n, p) =>
          failures++ < 2 ? Promise.reject(new Error('disk full')) : save(n, p);
        const notices: SubscriptionNotice[] = [];
        const sub = store.subscribe({
          name: 'saver',
          handler: () => undefined,
          retry: { initialDelayMs: 1 },
          onEvent: (n) => notices.push(n),
          settleOn: 'checkpointed',
        });
        const { lastPosition } = await store.appendToStream('acc-1', [deposit(1), deposit(2)]);
        await sub.waitFor(lastPosition);
        await sub.stop();
        store.checkpoints.save = save;
        expect(sub.status().state).toBe('stopped');
        expect(notices.filter((n) => n.kind === 'checkpoint-failed')).toHaveLength(2);
        expect(await store.checkpoints.load('saver')).toBe(lastPosition);
      });
    });

    describe("from: 'end'", () => {
      it("delivers an event appended once the subscription has started, and none before 'end'", async () => {
        const store = await fresh();
        await store.appendToStream('acc-1', [deposit(1)]);
        const seen: number[] = [];
        const sub = store.subscribe({
          name: 'tail',
          from: 'end',
          handler: (e) => void seen.push((e.data as { amount: number }).amount),
        });
        await sub.started;
        const { lastPosition } = await store.appendToStream('acc-1', [deposit(2)]);
        await sub.waitFor(lastPosition);
        await sub.stop();
        expect(seen).toEqual([2]);
      });

      // Only stores that know their head synchronously (memory, SQLite); on MongoDB callers
      // await `sub.started` first, which the test above covers.
      if (harness.headKnownAtSubscribe)
        it("delivers an event appended right after subscribe({ from: 'end' }) returns", async () => {
          const store = await fresh();
          await store.appendToStream('acc-1', [deposit(1)]);
          const seen: number[] = [];
          const sub = store.subscribe({
            name: 'tail-now',
            from: 'end',
            handler: (e) => void seen.push((e.data as { amount: number }).amount),
          });
          const { lastPosition } = await store.appendToStream('acc-1', [deposit(2)]);
          await sub.waitFor(lastPosition);
          await sub.stop();
          expect(seen).toEqual([2]);
        });
    });

    describe('option validation', () => {
      const handler = (): void => undefined;
      const bad: [string, Partial<Record<keyof SubscribeOptions, unknown>>, RegExp][] = [
        ['options.batchSize', { batchSize: 0 }, /integer between 1 and/],
        ['options.batchSize', { batchSize: 1.5 }, /integer between 1 and/],
        ['options.batchSize', { batchSize: '10' }, /integer between 1 and/],
        ['options.from', { from: -1 }, /'start', 'end' or a position/],
        ['options.from', { from: 'beginning' }, /'start', 'end' or a position/],
        ['options.retry.maxAttempts', { retry: { maxAttempts: 0 } }, /integer >= 1/],
        ['options.retry.initialDelayMs', { retry: { initialDelayMs: -5 } }, /integer >= 0/],
        ['options.retry.maxDelayMs', { retry: { maxDelayMs: Number.NaN } }, /integer >= 0/],
        ['options.retry', { retry: 3 }, /must be an object/],
        ['options.onPoison', { onPoison: 'skip' }, /'park', 'stop'/],
        ['options.checkpointIntervalMs', { checkpointIntervalMs: -1 }, /integer >= 0/],
        ['options.pollIntervalMs', { pollIntervalMs: 0 }, /integer >= 1/],
        // Node fires a timer longer than 2^31 - 1 ms at once: a live subscription would spin.
        ['options.pollIntervalMs', { pollIntervalMs: 2 ** 31 }, /at most 2147483647 ms/],
        ['options.checkpointIntervalMs', { checkpointIntervalMs: 1e10 }, /at most 2147483647/],
        ['options.retry.maxDelayMs', { retry: { maxDelayMs: 2 ** 31 } }, /at most 2147483647/],
        ['options.retry.initialDelayMs', { retry: { initialDelayMs: 2 ** 40 } }, /at most/],
        // MongoDB stores a lone surrogate as U+FFFD: two such names would share one checkpoint.
        ['options.name', { name: 'audit-\uD800' }, /lone surrogate/],
        ['options.eventTypes', { eventTypes: 'Deposited' }, /array of event type names/],
        ['options.eventTypes', { eventTypes: [''] }, /array of event type names/],
        ['options.checkpoints.save', { checkpoints: { load: handler } }, /must be a function/],
        ['options.settleOn', { settleOn: 'committed' }, /'handled', 'checkpointed'/],
        ['options.onEvent', { onEvent: 'log' }, /must be a function/],
        ['options.batchsize', { batchsize: 10 } as never, /not an option here/],
        ['options.name', { name: '' }, /non-empty string/],
        ['options.handler', { handler: undefined }, /must be a function/],
      ];
      it.each(bad)(
        'rejects a bad %s at the call with a ValidationError naming it (%o)',
        async (path, override, message) => {
          const store = await fresh();
          const error = thrownBy(() =>
            store.subscribe({ name: 'checked', handler, ...override } as SubscribeOptions),
          );
          expect(isValidationError(error), `not a ValidationError: ${String(error)}`).toBe(true);
          expect((error as ValidationError).path).toBe(path);
          expect((error as ValidationError).message).toMatch(message);
        },
      );

      it('accepts explicitly undefined optional options and uses their defaults', async () => {
        const store = await fresh();
        const { lastPosition } = await store.appendToStream('acc-1', [deposit(1)]);
        const sub = store.subscribe({
          name: 'defaults',
          handler,
          from: undefined,
          batchSize: undefined,
          retry: undefined,
          onEvent: undefined,
        });
        await sub.waitFor(lastPosition);
        await sub.stop();
      });
    });

    describe('reserved metadata', () => {
      it.each([['2'], [1.5], [0], [null]])(
        'rejects metadata.schemaVersion %o at append, so upcasting can always read the stream',
        async (schemaVersion) => {
          const store = await fresh();
          await store.appendToStream('acc-1', [deposit(1)]);
          const error = await store
            .appendToStream('acc-1', [
              { type: 'Deposited', data: { amount: 2 }, metadata: { schemaVersion } },
            ])
            .then(
              () => undefined,
              (e: unknown) => e,
            );
          expect(isValidationError(error), `not a ValidationError: ${String(error)}`).toBe(true);
          expect(error).toMatchObject({ path: 'events[0].metadata.schemaVersion' });
          const upcast = withUpcasting(store, [
            { type: 'Deposited', fromSchemaVersion: 1, upcast: (e) => ({ data: e.data }) },
          ]);
          expect((await upcast.readStream('acc-1')).map((e) => e.metadata.schemaVersion)).toEqual([
            2,
          ]);
        },
      );

      it('rejects a non-string metadata.idempotencyKey at append', async () => {
        const store = await fresh();
        await expect(
          store.appendToStream('acc-1', [
            { type: 'Deposited', data: { amount: 2 }, metadata: { idempotencyKey: 7 } },
          ]),
        ).rejects.toMatchObject({ path: 'events[0].metadata.idempotencyKey' });
        expect(await store.readStream('acc-1')).toEqual([]);
      });
    });

    describe('events the filter skips', () => {
      const countSaves = (store: EventStore): (() => number[]) => {
        const saved: number[] = [];
        const save = store.checkpoints.save.bind(store.checkpoints);
        store.checkpoints.save = (n, position) => {
          saved.push(position);
          return save(n, position);
        };
        return () => saved;
      };

      it('commits the checkpoint of a handled event before a checkpoint-settled waiter resolves', async () => {
        const store = await fresh();
        const saves = countSaves(store);
        const sub = store.subscribe({
          name: 'deposits',
          eventTypes: ['Deposited'],
          settleOn: 'checkpointed',
          checkpointIntervalMs: 60_000,
          handler: () => undefined,
        });
        await sub.started;
        const { lastPosition } = await store.appendToStream('acc-1', [deposit(1)]);
        await sub.waitFor(lastPosition);
        expect(saves()).toContain(lastPosition);
        expect(await store.checkpoints.load('deposits')).toBe(lastPosition);
        await sub.stop();
      });

      it('serves a checkpoint-settled waiter past skipped events without a store write per batch, and stores the position on stop', async () => {
        const store = await fresh();
        const saves = countSaves(store);
        const handled: number[] = [];
        const sub = store.subscribe({
          name: 'deposits',
          eventTypes: ['Deposited'],
          settleOn: 'checkpointed',
          checkpointIntervalMs: 60_000,
          handler: (e) => void handled.push(e.position),
        });
        await sub.started;
        const { lastPosition: deposited } = await store.appendToStream('acc-1', [deposit(1)]);
        await sub.waitFor(deposited);
        const before = saves().length;
        for (let i = 0; i < 5; i++) {
          const { lastPosition } = await store.appendToStream('acc-2', [
            { type: 'Withdrawn', data: { amount: i } },
          ]);
          await sub.waitFor(lastPosition);
        }
        const last = await store.headPosition();
        expect(saves().length).toBe(before);
        await sub.stop();
        expect(handled).toEqual([deposited]);
        expect(await store.checkpoints.load('deposits')).toBe(last);
      });

      it('commits the checkpoint of a batch it handled before a checkpoint-settled waiter resolves', async () => {
        const store = await fresh();
        const saves = countSaves(store);
        const sub = store.subscribe({
          name: 'batched-deposits',
          settleOn: 'checkpointed',
          checkpointIntervalMs: 60_000,
          handler: () => undefined,
          handleBatch: () => undefined,
        });
        await sub.started;
        const { lastPosition } = await store.appendToStream('acc-1', [deposit(1), deposit(2)]);
        await sub.waitFor(lastPosition);
        expect(saves()).toContain(lastPosition);
        expect(await store.checkpoints.load('batched-deposits')).toBe(lastPosition);
        await sub.stop();
      });
    });

    describe('catch-up fairness', () => {
      const batches = 6;
      const batchSize = 10;
      const backlog = async (store: EventStore): Promise<number> =>
        (
          await store.appendToStream(
            'acc-1',
            Array.from({ length: batches * batchSize }, (_, i) => deposit(i)),
          )
        ).lastPosition;

      it('lets other callbacks run between batches while catching up', async () => {
        const store = await fresh();
        const head = await backlog(store);
        const total = batches * batchSize;
        let timerRan = false;
        let timerRanBeforeLastEvent = false;
        let handled = 0;
        const sub = store.subscribe({
          name: 'fair',
          batchSize,
          handler: () => {
            if (++handled === total) timerRanBeforeLastEvent = timerRan;
          },
        });
        setImmediate(() => (timerRan = true));
        await sub.waitFor(head);
        await sub.stop();
        expect(handled).toBe(total);
        expect(timerRanBeforeLastEvent).toBe(true);
      });

      it('stops during a long catch-up before it ends, and a restart continues where it stopped', async () => {
        const store = await fresh();
        const head = await backlog(store);
        const seen: number[] = [];
        const handler = (e: RecordedEvent): void => void seen.push(e.position);
        const sub = store.subscribe({ name: 'stoppable', batchSize, handler });
        const stopped = new Promise<void>((resolve) =>
          setImmediate(() => void sub.stop().then(resolve)),
        );
        await stopped;
        expect(sub.status().state).toBe('stopped');
        expect(seen.length).toBeLessThan(batches * batchSize);

        const again = store.subscribe({ name: 'stoppable', batchSize, handler });
        await again.waitFor(head);
        await again.stop();
        const all = (await store.readAll()).map((e) => e.position);
        expect(seen).toEqual(all);
      });
    });

    describe('handleBatch', () => {
      it('hands each read to handleBatch in log order, filtered by eventTypes, and continues after its checkpoint', async () => {
        const store = await fresh();
        await store.appendToStream(
          'acc-1',
          Array.from({ length: 25 }, (_, i) =>
            i % 5 === 0 ? { type: 'Withdrawn', data: { amount: i } } : deposit(i),
          ),
        );
        const batches: number[][] = [];
        const perEvent: number[] = [];
        const options: SubscribeOptions = {
          name: 'batched',
          batchSize: 10,
          eventTypes: ['Deposited'],
          handler: (e) => void perEvent.push(e.position),
          handleBatch: (events) => void batches.push(events.map((e) => e.position)),
        };
        const sub = store.subscribe(options);
        const head = await store.headPosition();
        await sub.waitFor(head);
        await sub.stop();
        const deposits = (await store.readAll())
          .filter((e) => e.type === 'Deposited')
          .map((e) => e.position);
        expect(batches.flat()).toEqual(deposits);
        expect(batches.length).toBeGreaterThan(1);
        expect(perEvent).toEqual([]);
        expect(await store.checkpoints.load('batched')).toBe(head);

        const { lastPosition } = await store.appendToStream('acc-1', [deposit(99)]);
        const again = store.subscribe({ ...options, eventTypes: undefined });
        await again.waitFor(lastPosition);
        await again.stop();
        expect(batches.flat().slice(deposits.length)).toEqual([lastPosition]);
      });

      it('waits for the promise handleBatch returns before reading on, and stops failed when it rejects', async () => {
        const store = await fresh();
        const { lastPosition } = await store.appendToStream(
          'acc-1',
          Array.from({ length: 4 }, (_, i) => deposit(i)),
        );
        let release: () => void = () => undefined;
        const calls: number[] = [];
        const sub = store.subscribe({
          name: 'slow-batch',
          batchSize: 2,
          handler: () => undefined,
          handleBatch: (events) => {
            calls.push(events.length);
            if (calls.length === 1) return new Promise<void>((r) => (release = r));
            if (calls.length === 2) return Promise.reject(new Error('buffer is gone'));
            return undefined;
          },
        });
        await vi.waitFor(() => expect(calls).toEqual([2]));
        expect(sub.status().position).toBe(0);
        release();
        await expect(sub.done).rejects.toThrow('buffer is gone');
        expect(calls).toEqual([2, 2]);
        expect(sub.status().state).toBe('failed');
        expect(await store.checkpoints.load('slow-batch')).toBe(lastPosition - 2);
      });

      it('rejects a handleBatch that is not a function, naming the option', async () => {
        const store = await fresh();
        const error = thrownBy(() =>
          store.subscribe({
            name: 'bad-batch',
            handler: () => undefined,
            handleBatch: 42 as unknown as SubscribeOptions['handleBatch'],
          }),
        );
        expect(isValidationError(error)).toBe(true);
        expect((error as ValidationError).path).toBe('options.handleBatch');
      });
    });
  });
}
