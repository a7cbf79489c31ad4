import { describe, expect, it, vi } from 'vitest';
import {
  createCommandHandler,
  idempotentEventId,
  type SnapshotErrorContext,
} from '../../src/core/commandHandler.js';
import type { Decider } from '../../src/core/decider.js';
import {
  CommandRejectedError,
  isCommandRejectedError,
  isConcurrencyError,
  isValidationError,
  type ConcurrencyError,
} from '../../src/core/errors.js';
import { createMemoryEventStore } from '../../src/core/memoryEventStore.js';
import { createMemorySnapshotStore } from '../../src/core/memorySnapshotStore.js';
import type { EventStore, Snapshot, SnapshotStore } from '../../src/core/types.js';
import { recordingStreamReads } from '../support/streamReads.js';
import { useTestTracing } from '../support/tracing.js';

type CartEvent =
  | { type: 'ItemAdded'; data: { sku: string; quantity: number } }
  | { type: 'ItemRemoved'; data: { sku: string } }
  | { type: 'CartCheckedOut'; data: { itemCount: number } };

type CartCommand =
  | { type: 'AddItem'; sku: string; quantity: number }
  | { type: 'RemoveItem'; sku: string }
  | { type: 'CheckOut' };

interface Cart {
  items: Record<string, number>;
  checkedOut: boolean;
}

const cart: Decider<Cart, CartCommand, CartEvent> = {
  initialState: () => ({ items: {}, checkedOut: false }),
  decide(command, state) {
    if (state.checkedOut) throw new CommandRejectedError('The cart is already checked out');
    switch (command.type) {
      case 'AddItem':
        return { type: 'ItemAdded', data: { sku: command.sku, quantity: command.quantity } };
      case 'RemoveItem':
        // Removing what is not there is a no-op, not an error.
        return command.sku in state.items
          ? { type: 'ItemRemoved', data: { sku: command.sku } }
          : [];
      case 'CheckOut': {
        const itemCount = Object.values(state.items).reduce((n, q) => n + q, 0);
        if (itemCount === 0) throw new CommandRejectedError('An empty cart cannot be checked out');
        return { type: 'CartCheckedOut', data: { itemCount } };
      }
    }
  },
  evolve(state, event) {
    switch (event.type) {
      case 'ItemAdded':
        return {
          ...state,
          items: {
            ...state.items,
            [event.data.sku]: (state.items[event.data.sku] ?? 0) + event.data.quantity,
          },
        };
      case 'ItemRemoved': {
        const { [event.data.sku]: _removed, ...items } = state.items;
        return { ...state, items };
      }
      case 'CartCheckedOut':
        return { ...state, checkedOut: true };
    }
  },
};

const fast = { initialDelayMs: 1, maxDelayMs: 2 };
const addBook = { type: 'AddItem', sku: 'book', quantity: 1 } as const;

/** A cart decider whose decide() lets another writer append first, `times` times. */
function racingCart(store: EventStore, streamId: string, times: number) {
  let races = 0;
  const calls = { decide: 0 };
  const decider: Decider<Cart, CartCommand, CartEvent> = {
    ...cart,
    async decide(command, state) {
      calls.decide++;
      if (races < times) {
        races++;
        await store.appendToStream(streamId, [
          { type: 'ItemAdded', data: { sku: `rival-${races}`, quantity: 1 } },
        ]);
      }
      return cart.decide(command, state);
    },
  };
  return { decider, calls };
}

async function catchError(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

describe('createCommandHandler', () => {
  it('appends the decided events at the loaded version and returns the new state', async () => {
    const store = createMemoryEventStore();
    const handle = createCommandHandler({ store, decider: cart });

    const first = await handle('cart-1', addBook);
    const second = await handle('cart-1', { type: 'AddItem', sku: 'pen', quantity: 2 });

    expect(first.nextExpectedVersion).toBe(1);
    expect(second).toMatchObject({
      nextExpectedVersion: 2,
      lastPosition: 2,
      idempotentReplay: false,
      state: { items: { book: 1, pen: 2 }, checkedOut: false },
    });
    expect(second.events[0]?.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-/);
    expect(second.events).toMatchObject([
      {
        streamId: 'cart-1',
        type: 'ItemAdded',
        data: { sku: 'pen', quantity: 2 },
        metadata: {},
        version: 2,
      },
    ]);
    const stored = await store.readStream('cart-1');
    expect(stored.map((e) => e.id)).toEqual([first.events[0]?.id, second.events[0]?.id]);
  });

  it('appends nothing when decide returns no events and answers the current version', async () => {
    const store = createMemoryEventStore();
    const handle = createCommandHandler({ store, decider: cart });
    await handle('cart-1', addBook);

    const result = await handle('cart-1', { type: 'RemoveItem', sku: 'umbrella' });

    expect(result).toMatchObject({ events: [], nextExpectedVersion: 1, lastPosition: 1 });
    expect(await store.headPosition()).toBe(1);
  });

  it('lets a rejected command surface and appends nothing', async () => {
    const store = createMemoryEventStore();
    const handle = createCommandHandler({ store, decider: cart });

    const error = await catchError(handle('cart-1', { type: 'CheckOut' }));

    expect(isCommandRejectedError(error)).toBe(true);
    expect(await store.headPosition()).toBe(0);
  });

  it('merges the caller metadata into every event', async () => {
    const store = createMemoryEventStore();
    const handle = createCommandHandler({ store, decider: cart });
    await handle('cart-1', addBook, { metadata: { userId: 'u-7', correlationId: 'c-1' } });
    const [event] = await store.readStream('cart-1');
    expect(event?.metadata).toEqual({ userId: 'u-7', correlationId: 'c-1' });
  });

  describe('after a soft delete', () => {
    it('expects the version the stream kept, like the store does', async () => {
      const store = createMemoryEventStore();
      const handle = createCommandHandler({ store, decider: cart, retry: fast });
      await handle('cart-d', addBook);
      await handle('cart-d', addBook);
      await store.deleteStream('cart-d');

      const stale = await catchError(handle('cart-d', addBook, { expectedVersion: 0 }));
      expect(isConcurrencyError(stale)).toBe(true);
      expect(stale).toMatchObject({ expectedVersion: 0, actualVersion: 2 });

      const result = await handle('cart-d', addBook, { expectedVersion: 2 });
      expect(result.nextExpectedVersion).toBe(3);
      expect(result.state.items).toEqual({ book: 1 });
      expect((await store.readStream('cart-d')).map((e) => e.version)).toEqual([3]);
    });

    it('restarts a deleted stream without an expected version and answers its kept version for no events', async () => {
      const store = createMemoryEventStore();
      const handle = createCommandHandler({ store, decider: cart, retry: fast });
      await handle('cart-e', addBook);
      await handle('cart-e', addBook);
      await store.deleteStream('cart-e');
      const nothing = await handle('cart-e', { type: 'RemoveItem', sku: 'none' });
      expect(nothing).toMatchObject({ events: [], nextExpectedVersion: 2 });
      expect((await handle('cart-e', addBook)).nextExpectedVersion).toBe(3);
    });
  });

  describe('concurrency', () => {
    it('re-loads and re-decides when a concurrent writer appended between load and append', async () => {
      const store = createMemoryEventStore();
      const { decider, calls } = racingCart(store, 'cart-1', 1);
      const handle = createCommandHandler({ store, decider, retry: fast });

      const result = await handle('cart-1', addBook);

      expect(calls.decide).toBe(2);
      expect(result.nextExpectedVersion).toBe(2);
      expect(result.state.items).toEqual({ 'rival-1': 1, book: 1 });
      const types = (await store.readStream('cart-1')).map((e) => e.data);
      expect(types).toEqual([
        { sku: 'rival-1', quantity: 1 },
        { sku: 'book', quantity: 1 },
      ]);
    });

    it('rethrows the ConcurrencyError once maxAttempts are used up', async () => {
      const store = createMemoryEventStore();
      const { decider, calls } = racingCart(store, 'cart-1', Infinity);
      const handle = createCommandHandler({ store, decider, retry: { ...fast, maxAttempts: 3 } });

      const error = await catchError(handle('cart-1', addBook));

      expect(isConcurrencyError(error)).toBe(true);
      expect(calls.decide).toBe(3);
      expect((await store.readStream('cart-1')).map((e) => e.data)).not.toContainEqual({
        sku: 'book',
        quantity: 1,
      });
    });

    it('lets many concurrent commands on one stream all succeed, each exactly once', async () => {
      const store = createMemoryEventStore();
      const handle = createCommandHandler({ store, decider: cart, retry: fast });

      await Promise.all(
        ['a', 'b', 'c', 'd', 'e'].map((sku) =>
          handle('cart-1', { type: 'AddItem', sku, quantity: 1 }),
        ),
      );

      const stored = await store.readStream('cart-1');
      expect(stored.map((e) => (e.data as { sku: string }).sku).sort()).toEqual([
        'a',
        'b',
        'c',
        'd',
        'e',
      ]);
      expect(stored.map((e) => e.version)).toEqual([1, 2, 3, 4, 5]);
    });

    it("does not retry when the caller's explicit expectedVersion does not match, nor even decide", async () => {
      const store = createMemoryEventStore();
      const decide = vi.fn(cart.decide);
      const handle = createCommandHandler({ store, decider: { ...cart, decide }, retry: fast });
      await handle('cart-1', addBook);
      await handle('cart-1', addBook);
      decide.mockClear();

      const error = await catchError(handle('cart-1', addBook, { expectedVersion: 1 }));

      expect(isConcurrencyError(error)).toBe(true);
      expect((error as ConcurrencyError).expectedVersion).toBe(1);
      expect((error as ConcurrencyError).actualVersion).toBe(2);
      expect(decide).not.toHaveBeenCalled();
      expect(await store.headPosition()).toBe(2);
    });

    it("does not retry a race lost under the caller's explicit expectedVersion", async () => {
      const store = createMemoryEventStore();
      const { decider, calls } = racingCart(store, 'cart-1', 1);
      const handle = createCommandHandler({ store, decider, retry: fast });

      const error = await catchError(handle('cart-1', addBook, { expectedVersion: 'no_stream' }));

      expect(isConcurrencyError(error)).toBe(true);
      expect(calls.decide).toBe(1);
      expect(await store.headPosition()).toBe(1);
    });

    it('decides a command expecting a new stream without reading the stream first', async () => {
      const memory = createMemoryEventStore();
      const { store, reads } = recordingStreamReads(memory);
      const handle = createCommandHandler({ store, decider: cart, retry: fast });
      const result = await handle('cart-1', addBook, { expectedVersion: 'no_stream' });
      expect(result.nextExpectedVersion).toBe(1);
      expect(result.state).toEqual(cart.evolve(cart.initialState(), result.events[0]!));
      expect(reads).toEqual([]);
      // The stream exists now: the store refuses, and the caller's precondition is not retried.
      const error = await catchError(handle('cart-1', addBook, { expectedVersion: 'no_stream' }));
      expect(isConcurrencyError(error)).toBe(true);
      expect((error as ConcurrencyError).actualVersion).toBe(1);
      expect(await memory.headPosition()).toBe(1);
    });

    it('appends under a matching explicit expectedVersion', async () => {
      const store = createMemoryEventStore();
      const handle = createCommandHandler({ store, decider: cart });
      await handle('cart-1', addBook);
      const result = await handle('cart-1', addBook, { expectedVersion: 1 });
      expect(result.nextExpectedVersion).toBe(2);
    });
  });

  describe('idempotency keys', () => {
    it('refuses idempotencyKey in caller metadata, where it would pass for an earlier command', async () => {
      const store = createMemoryEventStore();
      const handle = createCommandHandler({ store, decider: cart, retry: fast });
      const viaOptions = await catchError(
        handle('cart-m', addBook, { metadata: { idempotencyKey: 'req-1' } }),
      );
      expect(isValidationError(viaOptions)).toBe(true);
      expect(viaOptions).toMatchObject({ path: 'options.metadata.idempotencyKey' });
      const ownMetadata = createCommandHandler({
        store,
        retry: fast,
        decider: {
          ...cart,
          decide: (): CartEvent =>
            ({
              type: 'ItemAdded',
              data: { sku: 'x', quantity: 1 },
              metadata: { idempotencyKey: 'req-1' },
            }) as CartEvent,
        },
      });
      const viaEvent = await catchError(ownMetadata('cart-m', addBook));
      expect(viaEvent).toMatchObject({ path: 'decided events[0].metadata.idempotencyKey' });
      expect(await store.readStream('cart-m')).toEqual([]);
    });

    it('runs a command whose key only appears in the metadata of an event appended directly', async () => {
      const store = createMemoryEventStore();
      await store.appendToStream('cart-n', [
        {
          type: 'ItemAdded',
          data: { sku: 'pen', quantity: 1 },
          metadata: { idempotencyKey: 'k-9' },
        },
      ]);
      const handle = createCommandHandler({ store, decider: cart, retry: fast });
      const result = await handle('cart-n', addBook, { idempotencyKey: 'k-9' });
      expect(result.idempotentReplay).toBe(false);
      expect(result.state.items).toEqual({ pen: 1, book: 1 });
      const again = await handle('cart-n', addBook, { idempotencyKey: 'k-9' });
      expect(again.idempotentReplay).toBe(true);
      expect(await store.readStream('cart-n')).toHaveLength(2);
    });

    it('derives event ids from stream and key and records the key in metadata', async () => {
      const store = createMemoryEventStore();
      const handle = createCommandHandler({ store, decider: cart });

      const result = await handle('cart-1', addBook, { idempotencyKey: 'req-1' });

      expect(result.events[0]?.id).toBe(idempotentEventId('cart-1', 'req-1', 0));
      const [stored] = await store.readStream('cart-1');
      expect(stored?.metadata).toEqual({ idempotencyKey: 'req-1' });
    });

    it('appends a command sent twice in a row only once and replays the first result', async () => {
      const store = createMemoryEventStore();
      const handle = createCommandHandler({ store, decider: cart });

      const first = await handle('cart-1', addBook, { idempotencyKey: 'req-1' });
      const again = await handle('cart-1', addBook, { idempotencyKey: 'req-1' });

      expect(first.idempotentReplay).toBe(false);
      expect(again.idempotentReplay).toBe(true);
      expect(again.events.map((e) => e.id)).toEqual(first.events.map((e) => e.id));
      expect(again).toMatchObject({
        nextExpectedVersion: first.nextExpectedVersion,
        lastPosition: first.lastPosition,
        state: first.state,
      });
      expect(await store.readStream('cart-1')).toHaveLength(1);
    });

    it('replays the result as it was, even after later commands changed the stream', async () => {
      const store = createMemoryEventStore();
      const handle = createCommandHandler({ store, decider: cart });
      await handle('cart-1', addBook);
      const checkout = await handle('cart-1', { type: 'CheckOut' }, { idempotencyKey: 'pay-1' });

      // A second checkout would be rejected by the rules; the retry must still succeed.
      const retried = await handle('cart-1', { type: 'CheckOut' }, { idempotencyKey: 'pay-1' });

      expect(retried.idempotentReplay).toBe(true);
      expect(retried.nextExpectedVersion).toBe(checkout.nextExpectedVersion);
      expect(retried.events).toHaveLength(1);
      expect(retried.events[0]).toMatchObject({ type: 'CartCheckedOut', data: { itemCount: 1 } });
    });

    it('appends a command sent concurrently several times with the same key exactly once', async () => {
      const store = createMemoryEventStore();
      const handle = createCommandHandler({ store, decider: cart, retry: fast });
      await handle('cart-1', { type: 'AddItem', sku: 'pen', quantity: 1 });

      const results = await Promise.all(
        Array.from({ length: 5 }, () =>
          handle(
            'cart-1',
            { type: 'AddItem', sku: 'book', quantity: 3 },
            { idempotencyKey: 'req-9' },
          ),
        ),
      );

      const stored = await store.readStream('cart-1');
      expect(stored).toHaveLength(2);
      expect(stored[1]?.id).toBe(idempotentEventId('cart-1', 'req-9', 0));
      for (const r of results) {
        expect(r.nextExpectedVersion).toBe(2);
        expect(r.events.map((e) => e.id)).toEqual([stored[1]?.id]);
      }
    });

    it('appends a command racing its duplicate on a new stream exactly once', async () => {
      const store = createMemoryEventStore();
      const handle = createCommandHandler({ store, decider: cart, retry: fast });
      await Promise.all([
        handle('cart-2', addBook, { idempotencyKey: 'k' }),
        handle('cart-2', addBook, { idempotencyKey: 'k' }),
      ]);
      expect(await store.readStream('cart-2')).toHaveLength(1);
    });

    it('keeps the same key on different streams apart', async () => {
      const store = createMemoryEventStore();
      const handle = createCommandHandler({ store, decider: cart });
      await handle('cart-1', addBook, { idempotencyKey: 'same' });
      const other = await handle('cart-2', addBook, { idempotencyKey: 'same' });
      expect(other.idempotentReplay).toBe(false);
      expect(await store.headPosition()).toBe(2);
    });

    it('recognizes a duplicate whose events are already behind a snapshot', async () => {
      const store = createMemoryEventStore();
      const snapshots = createMemorySnapshotStore();
      const handle = createCommandHandler({
        store,
        decider: cart,
        retry: fast,
        snapshots: { store: snapshots, every: 1 },
      });
      await handle('cart-1', addBook, { idempotencyKey: 'add-1' });
      await handle('cart-1', { type: 'CheckOut' }, { idempotencyKey: 'pay-1' });

      // Each snapshot is at the head, so the tail read after it holds neither original event.
      const add = await handle('cart-1', addBook, { idempotencyKey: 'add-1' });
      const pay = await handle('cart-1', { type: 'CheckOut' }, { idempotencyKey: 'pay-1' });

      expect(add).toMatchObject({ idempotentReplay: true, nextExpectedVersion: 1 });
      expect(pay).toMatchObject({ idempotentReplay: true, nextExpectedVersion: 2 });
      expect(await store.headPosition()).toBe(2);
    });

    it('recognizes a duplicate behind a snapshot even when the rules would accept it again', async () => {
      const store = createMemoryEventStore();
      const decide = vi.fn(cart.decide);
      const handle = createCommandHandler({
        store,
        decider: { ...cart, decide },
        retry: fast,
        snapshots: { store: createMemorySnapshotStore(), every: 2 },
      });
      await handle('cart-1', addBook, { idempotencyKey: 'add-1' });
      await handle('cart-1', { type: 'AddItem', sku: 'pen', quantity: 1 });
      decide.mockClear();

      const again = await handle('cart-1', addBook, { idempotencyKey: 'add-1' });

      // One decide, then the append hits the original ids elsewhere in the stream and the
      // very next load reads the whole stream and finds the key — no retries burnt.
      expect(decide).toHaveBeenCalledTimes(1);
      expect(again).toMatchObject({ idempotentReplay: true, nextExpectedVersion: 1 });
      expect(again.state.items).toEqual({ book: 1 });
      expect(await store.headPosition()).toBe(2);
    });

    it('computes ids that any UUIDv5 implementation reproduces', () => {
      // Reference values from Python: uuid.uuid5(UUID('97a97fde-8c8b-4c6d-ab82-893426298894'), name)
      expect(idempotentEventId('cart-1', 'req-1', 0)).toBe('bd779d14-f21d-5089-9233-34cd0c3a8a17');
      expect(idempotentEventId('user-é✓', 'k'.repeat(200), 12)).toBe(
        'ebe359d8-910b-5f0f-bb87-0186add58b10',
      );
      expect(idempotentEventId('cart-1', 'req-1', 1)).not.toBe(
        idempotentEventId('cart-1', 'req-1', 0),
      );
    });
  });

  describe('snapshots', () => {
    function spiedSnapshots(): SnapshotStore & { saved: Snapshot[] } {
      const inner = createMemorySnapshotStore();
      const saved: Snapshot[] = [];
      return {
        saved,
        load: (streamId) => inner.load(streamId),
        save: async (snapshot) => {
          saved.push(snapshot);
          await inner.save(snapshot);
        },
        delete: (streamId) => inner.delete(streamId),
      };
    }

    it('saves a snapshot each time the version crosses a multiple of `every`', async () => {
      const store = createMemoryEventStore();
      const snapshots = spiedSnapshots();
      const handle = createCommandHandler({
        store,
        decider: cart,
        snapshots: { store: snapshots, every: 3 },
      });

      for (let i = 0; i < 7; i++)
        await handle('cart-1', { type: 'AddItem', sku: `s${i}`, quantity: 1 });

      expect(snapshots.saved.map((s) => s.version)).toEqual([3, 6]);
      expect(snapshots.saved[1]).toMatchObject({ streamId: 'cart-1', schemaVersion: 1 });
      expect(Object.keys((snapshots.saved[1]?.state as Cart).items)).toHaveLength(6);
    });

    it('takes a snapshot when a multi-event append jumps over a multiple', async () => {
      const store = createMemoryEventStore();
      const snapshots = spiedSnapshots();
      const bulk: Decider<Cart, CartCommand, CartEvent> = {
        ...cart,
        decide: () => [
          { type: 'ItemAdded', data: { sku: 'a', quantity: 1 } },
          { type: 'ItemAdded', data: { sku: 'b', quantity: 1 } },
          { type: 'ItemAdded', data: { sku: 'c', quantity: 1 } },
        ],
      };
      const handle = createCommandHandler({
        store,
        decider: bulk,
        snapshots: { store: snapshots, every: 2 },
      });
      await handle('cart-1', addBook);
      expect(snapshots.saved.map((s) => s.version)).toEqual([3]);
    });

    it('loads from the snapshot and reads only the tail of the stream', async () => {
      const store = createMemoryEventStore();
      const snapshots = createMemorySnapshotStore();
      const handle = createCommandHandler({
        store,
        decider: cart,
        snapshots: { store: snapshots, every: 5 },
      });
      for (let i = 0; i < 7; i++)
        await handle('cart-1', { type: 'AddItem', sku: `s${i}`, quantity: 1 });
      const readStream = vi.spyOn(store, 'readStream');

      const result = await handle('cart-1', { type: 'AddItem', sku: 's7', quantity: 1 });

      // The read starts at the snapshot's own version, which proves the snapshot still matches.
      expect(readStream).toHaveBeenCalledTimes(1);
      expect(readStream).toHaveBeenCalledWith('cart-1', { from: 5 });
      expect((await readStream.mock.results[0]?.value) as unknown[]).toHaveLength(3);
      expect(Object.keys(result.state.items)).toEqual([
        's0',
        's1',
        's2',
        's3',
        's4',
        's5',
        's6',
        's7',
      ]);
      expect(result.nextExpectedVersion).toBe(8);
    });

    it('ignores a snapshot of another schema version and reads the whole stream', async () => {
      const store = createMemoryEventStore();
      const snapshots = createMemorySnapshotStore();
      const v1 = createCommandHandler({
        store,
        decider: cart,
        snapshots: { store: snapshots, every: 2 },
      });
      await v1('cart-1', addBook);
      await v1('cart-1', addBook);
      // A state of an old shape that must not be used.
      await snapshots.save({
        streamId: 'cart-1',
        version: 2,
        state: { lines: [] },
        schemaVersion: 1,
        takenAt: new Date(),
      });
      const onSnapshotError = vi.fn();
      const v2 = createCommandHandler({
        store,
        decider: cart,
        snapshots: { store: snapshots, every: 2, schemaVersion: 2, onSnapshotError },
      });
      const readStream = vi.spyOn(store, 'readStream');

      const result = await v2('cart-1', addBook);

      expect(readStream).toHaveBeenCalledWith('cart-1', { from: 1 });
      expect(result.state.items).toEqual({ book: 3 });
      expect(onSnapshotError).not.toHaveBeenCalled();
    });

    it('reports a failed snapshot save without failing the command', async () => {
      const store = createMemoryEventStore();
      const failure = new Error('snapshot collection is read-only');
      const broken: SnapshotStore = {
        load: () => Promise.resolve(undefined),
        save: () => Promise.reject(failure),
        delete: () => Promise.resolve(),
      };
      const reports: [unknown, SnapshotErrorContext][] = [];
      const handle = createCommandHandler({
        store,
        decider: cart,
        snapshots: { store: broken, every: 1, onSnapshotError: (e, c) => reports.push([e, c]) },
      });

      const result = await handle('cart-1', addBook);

      expect(result.nextExpectedVersion).toBe(1);
      expect(reports).toEqual([[failure, { streamId: 'cart-1', operation: 'save', version: 1 }]]);
    });

    it('reports a failed snapshot load and falls back to the whole stream', async () => {
      const store = createMemoryEventStore();
      const reports: SnapshotErrorContext[] = [];
      const handle = createCommandHandler({
        store,
        decider: cart,
        snapshots: {
          store: {
            load: () => Promise.reject(new Error('connection reset')),
            save: () => Promise.resolve(),
            delete: () => Promise.resolve(),
          },
          every: 10,
          onSnapshotError: (_e, c) => reports.push(c),
        },
      });
      await handle('cart-1', addBook);
      const result = await handle('cart-1', addBook);
      expect(result.state.items).toEqual({ book: 2 });
      expect(reports.map((c) => c.operation)).toEqual(['load', 'load']);
    });

    it('ignores the snapshot of a deleted stream instead of resurrecting its state', async () => {
      const store = createMemoryEventStore();
      const snapshots = createMemorySnapshotStore();
      const reports: SnapshotErrorContext[] = [];
      const handle = createCommandHandler({
        store,
        decider: cart,
        snapshots: { store: snapshots, every: 2, onSnapshotError: (_e, c) => reports.push(c) },
      });
      await handle('cart-1', addBook);
      await handle('cart-1', { type: 'CheckOut' });
      await store.deleteStream('cart-1');

      const result = await handle('cart-1', { type: 'AddItem', sku: 'pen', quantity: 1 });

      expect(result.state).toEqual({ items: { pen: 1 }, checkedOut: false });
      expect(result.nextExpectedVersion).toBe(3);
      expect(reports).toEqual([{ streamId: 'cart-1', operation: 'load', version: 2 }]);
    });
  });

  describe('options', () => {
    it('rejects invalid options with errors that name the option', async () => {
      const store = createMemoryEventStore();
      const attempt = (f: () => unknown): unknown => {
        try {
          f();
        } catch (error) {
          return error;
        }
        return undefined;
      };
      const zeroAttempts = attempt(() =>
        createCommandHandler({ store, decider: cart, retry: { maxAttempts: 0 } }),
      );
      expect(isValidationError(zeroAttempts)).toBe(true);
      expect((zeroAttempts as Error).message).toContain('options.retry.maxAttempts');
      const everyZero = attempt(() =>
        createCommandHandler({
          store,
          decider: cart,
          snapshots: { store: createMemorySnapshotStore(), every: 0 },
        }),
      );
      expect((everyZero as Error).message).toContain('options.snapshots.every');

      const handle = createCommandHandler({ store, decider: cart });
      const emptyKey = await catchError(handle('cart-1', addBook, { idempotencyKey: '' }));
      expect((emptyKey as Error).message).toContain('options.idempotencyKey');
      const badVersion = await catchError(handle('cart-1', addBook, { expectedVersion: -1 }));
      expect(isValidationError(badVersion)).toBe(true);
    });
  });
});

describe('tracing', () => {
  const tracing = useTestTracing();

  it('handles a command in one span that shows each lost race and the attempts it took', async () => {
    const store = createMemoryEventStore();
    const { decider } = racingCart(store, 'cart-1', 2);
    const handle = createCommandHandler({ store, decider, retry: fast });
    tracing.reset();

    await handle('cart-1', addBook);

    const [span] = tracing.spans('handle command');
    expect(span?.attributes).toMatchObject({
      'eventloom.stream.id': 'cart-1',
      'eventloom.command.type': 'AddItem',
      'eventloom.command.attempts': 3,
    });
    expect(span?.events.map((e) => [e.name, e.attributes?.['eventloom.attempt']])).toEqual([
      ['concurrency conflict', 1],
      ['concurrency conflict', 2],
    ]);
    // The appends (the rivals' and the command's own) are children of the command's span.
    const appends = tracing
      .spans('append')
      .filter((a) => a.parentSpanContext?.spanId === span?.spanContext().spanId);
    expect(appends.length).toBeGreaterThanOrEqual(3);
    const [event] = (await store.readStream('cart-1')).filter(
      (e) => (e.data as { sku: string }).sku === 'book',
    );
    expect(event?.metadata.traceparent).toContain(span?.spanContext().traceId);
  });
});
