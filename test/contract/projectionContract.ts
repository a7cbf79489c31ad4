/**
 * Projection behaviour, written once and run against every read-model target.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { isConfigurationError, isValidationError } from '../../src/core/errors.js';
import {
  rebuildProjection,
  startProjection,
  type RebuildProgress,
} from '../../src/core/projections.js';
import type { InlineProjection, Projection, ProjectionTarget } from '../../src/core/readModel.js';
import type { EventStore, SubscriptionNotice } from '../../src/core/types.js';

export interface ProjectionHarness {
  /** A fresh store and a target; `inline` projections are committed with appends. */
  create(inline?: InlineProjection[]): Promise<{ store: EventStore; target: ProjectionTarget }>;
  /** Whether the store supports inline projections. */
  inline: boolean;
  /** Skip the suite (its service is unavailable; the reason was printed). */
  skip?: boolean;
}

/** Counts deposits per account and keeps a running balance: non-idempotent on purpose. */
const balances: Projection = {
  name: 'balances',
  collections: ['balances'],
  eventTypes: ['Deposited', 'Withdrawn'],
  async handle(event, docs) {
    const id = event.streamId;
    const current = (await docs.get<{ balance: number; count: number }>('balances', id)) ?? {
      balance: 0,
      count: 0,
    };
    const amount = (event.data as { amount: number }).amount;
    await docs.put('balances', id, {
      account: id,
      balance: current.balance + (event.type === 'Deposited' ? amount : -amount),
      count: current.count + 1,
      rich: current.balance + amount > 100,
    });
  },
};

const deposit = (amount: number) => ({ type: 'Deposited', data: { amount } });

export function projectionContract(name: string, harness: ProjectionHarness): void {
  describe.skipIf(harness.skip === true)(`projections: ${name}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const c of cleanups.splice(0).reverse()) await c();
    });
    const fresh = async (inline?: InlineProjection[]) => {
      const h = await harness.create(inline);
      cleanups.push(() => h.store.close());
      return h;
    };

    it('builds a read model that includes an event once waitFor(position) resolves', async () => {
      const { store, target } = await fresh();
      const running = startProjection({ store, projection: balances, target });
      await store.appendToStream('acc-1', [deposit(10), deposit(5)]);
      const { lastPosition } = await store.appendToStream('acc-2', [deposit(7)]);
      await running.waitFor(lastPosition);
      expect(await target.documents.get('balances', 'acc-1')).toMatchObject({
        balance: 15,
        count: 2,
      });
      expect(await target.documents.find('balances', { account: 'acc-2' })).toEqual([
        { account: 'acc-2', balance: 7, count: 1, rich: false },
      ]);
      await running.stop();
      expect(await target.loadCheckpoint('balances')).toBe(lastPosition);
    });

    it('retries a failed read-model commit and never applies an event twice, also across a restart', async () => {
      const { store, target } = await fresh();
      for (let i = 0; i < 30; i++) await store.appendToStream(`acc-${i % 3}`, [deposit(1)]);
      let failNext = true;
      const flaky: ProjectionTarget = {
        ...target,
        commit: async (p, pos, writes) => {
          if (failNext && pos > 10) {
            failNext = false;
            throw new Error('disk unplugged');
          }
          return target.commit(p, pos, writes);
        },
      };
      const notices: SubscriptionNotice[] = [];
      const first = startProjection({
        store,
        projection: balances,
        target: flaky,
        batchSize: 7,
        checkpointIntervalMs: 0,
        retry: { initialDelayMs: 1 },
        onEvent: (n) => notices.push(n),
      });
      await first.waitFor(await store.headPosition());
      await first.stop();
      expect(notices.filter((n) => n.kind === 'checkpoint-failed')).toHaveLength(1);
      const { lastPosition } = await store.appendToStream('acc-0', [deposit(1)]);
      const second = startProjection({ store, projection: balances, target, batchSize: 7 });
      await second.waitFor(lastPosition);
      await second.stop();
      const docs = await target.documents.find<{ count: number; balance: number }>('balances');
      expect(docs.map((d) => d.count).sort((a, b) => b - a)).toEqual([11, 10, 10]);
      expect(docs.map((d) => d.balance).sort((a, b) => b - a)).toEqual([11, 10, 10]);
    });

    it('rolls back the writes of a failed attempt before retrying the event', async () => {
      const { store, target } = await fresh();
      let attempts = 0;
      const flakyHandler: Projection = {
        ...balances,
        name: 'flaky-balances',
        async handle(event, docs) {
          await balances.handle(event, docs);
          if (++attempts === 1) throw new Error('transient');
        },
      };
      const { lastPosition } = await store.appendToStream('acc-9', [deposit(4)]);
      const running = startProjection({
        store,
        projection: flakyHandler,
        target,
        retry: { initialDelayMs: 1 },
      });
      await running.waitFor(lastPosition);
      await running.stop();
      expect(await target.documents.get('balances', 'acc-9')).toMatchObject({
        balance: 4,
        count: 1,
      });
    });

    it('sees its own pending writes when querying within a batch', async () => {
      const { store, target } = await fresh();
      const names: Projection = {
        name: 'names',
        collections: ['names'],
        async handle(event, docs) {
          const taken = await docs.find('names', { name: (event.data as { name: string }).name });
          await docs.put('names', event.id, {
            name: (event.data as { name: string }).name,
            duplicate: taken.length > 0,
          });
        },
      };
      await store.appendToStream('n-1', [
        { type: 'Named', data: { name: 'ada' } },
        { type: 'Named', data: { name: 'ada' } },
      ]);
      const running = startProjection({ store, projection: names, target });
      await running.waitFor(await store.headPosition());
      await running.stop();
      const docs = await target.documents.find<{ duplicate: boolean }>('names');
      expect(docs.map((d) => d.duplicate).sort()).toEqual([false, true]);
    });

    it('rebuilds from the start with progress and ends where a live run continues', async () => {
      const { store, target } = await fresh();
      for (let i = 0; i < 250; i++) await store.appendToStream(`acc-${i % 5}`, [deposit(2)]);
      await target.commit('balances', 0, [
        { op: 'put', collection: 'balances', id: 'stale', doc: { balance: -1 } },
      ]);
      const progress: RebuildProgress[] = [];
      const result = await rebuildProjection({
        store,
        projection: balances,
        target,
        batchSize: 100,
        onProgress: (p) => progress.push(p),
      });
      expect(result.processed).toBe(250);
      expect(progress.map((p) => p.processed)).toEqual([100, 200, 250]);
      expect(progress.at(-1)!.ratio).toBe(1);
      expect(await target.documents.get('balances', 'stale')).toBeUndefined();
      expect(
        (await target.documents.find<{ balance: number }>('balances')).map((d) => d.balance),
      ).toEqual([100, 100, 100, 100, 100]);
      const { lastPosition } = await store.appendToStream('acc-0', [deposit(1)]);
      const live = startProjection({ store, projection: balances, target });
      await live.waitFor(lastPosition);
      await live.stop();
      expect(await target.documents.get('balances', 'acc-0')).toMatchObject({
        balance: 101,
        count: 51,
      });
    });

    it('refuses to rebuild a projection while it runs live, or to start it while it is rebuilt', async () => {
      const { store, target } = await fresh();
      const { lastPosition } = await store.appendToStream('acc-1', [deposit(3)]);
      const live = startProjection({ store, projection: balances, target });
      await live.waitFor(lastPosition);
      const refusal = (call: () => unknown): unknown => {
        try {
          call();
        } catch (error) {
          return error;
        }
        return undefined;
      };
      expect(refusal(() => rebuildProjection({ store, projection: balances, target }))).toSatisfy(
        isConfigurationError,
      );
      expect(refusal(() => startProjection({ store, projection: balances, target }))).toSatisfy(
        isConfigurationError,
      );
      await live.stop();

      const rebuilding = rebuildProjection({ store, projection: balances, target });
      expect(
        (refusal(() => startProjection({ store, projection: balances, target })) as Error).message,
      ).toMatch(/being rebuilt/);
      expect((await rebuilding).processed).toBe(1);
      const again = startProjection({ store, projection: balances, target });
      const { lastPosition: next } = await store.appendToStream('acc-1', [deposit(4)]);
      await again.waitFor(next);
      await again.stop();
      expect(await target.documents.get('balances', 'acc-1')).toMatchObject({
        balance: 7,
        count: 2,
      });
    });

    it('lets other callbacks run between the batches of a rebuild', async () => {
      const { store, target } = await fresh();
      await store.appendToStream(
        'acc-1',
        Array.from({ length: 40 }, () => deposit(1)),
      );
      let timerRan = false;
      let timerRanBeforeLastBatch = false;
      const rebuilding = rebuildProjection({
        store,
        projection: balances,
        target,
        batchSize: 10,
        onProgress: (p) => {
          if (p.processed === 40) timerRanBeforeLastBatch = timerRan;
        },
      });
      setImmediate(() => (timerRan = true));
      expect((await rebuilding).processed).toBe(40);
      expect(timerRanBeforeLastBatch).toBe(true);
    });

    it('sorts and limits queries', async () => {
      const { store, target } = await fresh();
      await store.appendToStream('acc-a', [deposit(50)]);
      await store.appendToStream('acc-b', [deposit(500)]);
      await store.appendToStream('acc-c', [deposit(5)]);
      const running = startProjection({ store, projection: balances, target });
      await running.waitFor(await store.headPosition());
      await running.stop();
      const top = await target.documents.find<{ account: string }>('balances', undefined, {
        sort: { field: 'balance', direction: 'desc' },
        limit: 2,
      });
      expect(top.map((d) => d.account)).toEqual(['acc-b', 'acc-a']);
      expect(
        (await target.documents.find<{ account: string }>('balances', { rich: true })).map(
          (d) => d.account,
        ),
      ).toEqual(['acc-b']);
    });

    if (harness.inline) {
      const counter: InlineProjection = {
        name: 'counter',
        collections: ['counters'],
        handle(event, docs) {
          const c = docs.get<{ n: number }>('counters', event.streamId) ?? { n: 0 };
          if ((event.data as { amount?: number }).amount === 13) throw new Error('unlucky');
          docs.put('counters', event.streamId, { n: c.n + 1 });
        },
      };

      it('commits an inline projection atomically with the append', async () => {
        const { store, target } = await fresh([counter]);
        await store.appendToStream('acc-1', [deposit(1), deposit(2)]);
        expect(await target.documents.get('counters', 'acc-1')).toEqual({ n: 2 });
        await expect(store.appendToStream('acc-1', [deposit(3), deposit(13)])).rejects.toThrow(
          /unlucky/,
        );
        expect(await store.readStream('acc-1')).toHaveLength(2);
        expect(await target.documents.get('counters', 'acc-1')).toEqual({ n: 2 });
      });

      it('refuses an asynchronous inline handler and writes nothing', async () => {
        const asyncInline = {
          name: 'bad',
          collections: [],
          handle: async () => undefined,
        } as unknown as InlineProjection;
        const { store } = await fresh([asyncInline]);
        await expect(store.appendToStream('acc-1', [deposit(1)])).rejects.toSatisfy(
          isValidationError,
        );
        expect(await store.readAll()).toEqual([]);
      });
    }
  });
}
