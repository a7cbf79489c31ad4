import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createInventory, loadAggregate, productDecider } from '../../src/app/index.js';
import type { ReservationOutcome } from '../../src/app/index.js';
import { createCommandHandler, type EventStore } from '../../src/core/index.js';

export interface InventoryContractOptions {
  /** A fresh, empty event store. */
  createStore: () => Promise<EventStore>;
  /** fast-check runs of the concurrency property (fewer for slow stores). */
  numRuns: number;
}

const ADDED_BY = { userId: 'u1', username: 'ada', role: 'user' as const };
const PRODUCTS = ['p1', 'p2', 'p3'];

async function addProducts(store: EventStore, prefix: string, stocks: (number | null)[]) {
  const handle = createCommandHandler({ store, decider: productDecider });
  const ids = stocks.map((_, i) => `${prefix}${PRODUCTS[i] ?? i}`);
  for (const [i, stock] of stocks.entries()) {
    await handle(`product-${ids[i]}`, {
      type: 'AddProduct',
      productId: ids[i] as string,
      name: `P${i}`,
      description: '',
      priceCents: 100,
      addedBy: ADDED_BY,
      stock,
    });
  }
  return ids;
}

/** What each product holds per order, and its remaining stock, as the streams say. */
async function holdings(store: EventStore, productIds: string[]) {
  const result = new Map<string, { stock: number | null; held: Map<string, number> }>();
  for (const id of productIds) {
    const { state } = await loadAggregate(store, `product-${id}`, productDecider);
    const held = new Map<string, number>();
    for (const [orderId, r] of Object.entries(state.reservations)) {
      if (!r.released) held.set(orderId, r.quantity);
    }
    result.set(id, { stock: state.stock, held });
  }
  return result;
}

const lastPosition = async (store: EventStore) => (await store.readAll({ from: 0 })).length;

/** The inventory's guarantees on one event store: never oversold, all or nothing, idempotent. */
export function inventoryContract(name: string, options: InventoryContractOptions): void {
  describe(`inventory on ${name}`, () => {
    it('never reserves more than the stock under concurrent orders, each all or nothing, and retries change nothing', async () => {
      const stockArb = fc.option(fc.integer({ min: 0, max: 6 }), { nil: null });
      const orderArb = fc.record({
        lines: fc.uniqueArray(
          fc.record({
            product: fc.integer({ min: 0, max: 2 }),
            quantity: fc.integer({ min: 1, max: 4 }),
          }),
          { minLength: 1, maxLength: 3, selector: (l) => l.product },
        ),
        twice: fc.boolean(),
        release: fc.boolean(),
      });
      let run = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(stockArb, { minLength: 3, maxLength: 3 }),
          fc.array(orderArb, { minLength: 2, maxLength: 6 }),
          async (stocks, orders) => {
            const store = await options.createStore();
            const prefix = `r${run++}-`;
            const ids = await addProducts(store, prefix, stocks);
            const inventory = createInventory({ store });
            const asked = orders.map((o, i) => ({
              orderId: `${prefix}o${i}`,
              twice: o.twice,
              release: o.release,
              lines: o.lines.map((l) => ({
                productId: ids[l.product] as string,
                quantity: l.quantity,
              })),
            }));
            // Every order at once, some twice at once (a redelivered command racing the original).
            const calls = asked.flatMap((o) => (o.twice ? [o, o] : [o]));
            const outcomes = await Promise.all(
              calls.map((o) => inventory.reserveStock(o.orderId, o.lines)),
            );
            const byOrder = new Map<string, ReservationOutcome>();
            outcomes.forEach((outcome, i) => {
              const orderId = calls[i]?.orderId as string;
              const first = byOrder.get(orderId);
              if (first !== undefined) expect(outcome).toEqual(first);
              byOrder.set(orderId, outcome);
            });

            const check = async (released: Set<string>) => {
              const held = await holdings(store, ids);
              for (const [i, id] of ids.entries()) {
                const p = held.get(id);
                const total = [...(p?.held.values() ?? [])].reduce((a, b) => a + b, 0);
                const initial = stocks[i] ?? null;
                if (initial !== null) {
                  expect(total).toBeLessThanOrEqual(initial);
                  expect(p?.stock).toBe(initial - total);
                }
              }
              for (const o of asked) {
                const outcome = byOrder.get(o.orderId);
                const holds = o.lines.map((l) => held.get(l.productId)?.held.get(o.orderId));
                if (outcome?.status === 'reserved' && !released.has(o.orderId)) {
                  // Unlimited stock is never held.
                  expect(holds).toEqual(
                    o.lines.map((l) =>
                      stocks[ids.indexOf(l.productId)] === null ? undefined : l.quantity,
                    ),
                  );
                } else {
                  expect(holds.every((h) => h === undefined)).toBe(true);
                }
              }
            };
            await check(new Set());

            const before = await lastPosition(store);
            const retried = await Promise.all(
              asked.map((o) => inventory.reserveStock(o.orderId, o.lines)),
            );
            retried.forEach((r, i) => expect(r).toEqual(byOrder.get(asked[i]?.orderId as string)));
            expect(await lastPosition(store)).toBe(before);

            const toRelease = asked.filter((o) => o.release);
            await Promise.all(toRelease.map((o) => inventory.releaseStock(o.orderId)));
            const released = new Set(toRelease.map((o) => o.orderId));
            await check(released);
            const afterRelease = await lastPosition(store);
            await Promise.all(toRelease.map((o) => inventory.releaseStock(o.orderId)));
            for (const o of toRelease) {
              const again = await inventory.reserveStock(o.orderId, o.lines);
              expect(again.status).toBe(
                byOrder.get(o.orderId)?.status === 'rejected' ? 'rejected' : 'released',
              );
            }
            expect(await lastPosition(store)).toBe(afterRelease);
            await check(released);
          },
        ),
        { numRuns: options.numRuns },
      );
    });

    it('rejects a whole order when one line is short, holding nothing of its other lines', async () => {
      const store = await options.createStore();
      const [a, b] = await addProducts(store, 'short-', [5, 1]);
      const inventory = createInventory({ store });
      const outcome = await inventory.reserveStock('o1', [
        { productId: a as string, quantity: 2 },
        { productId: b as string, quantity: 2 },
      ]);
      expect(outcome).toMatchObject({
        status: 'rejected',
        refusal: { reason: 'out_of_stock', productId: b, requested: 2 },
      });
      const held = await holdings(store, [a as string, b as string]);
      expect(held.get(a as string)).toEqual({ stock: 5, held: new Map() });
      expect(held.get(b as string)).toEqual({ stock: 1, held: new Map() });
      await expect(inventory.getReservation('o1')).resolves.toEqual(outcome);
    });

    it('finishes a reservation that crashed half-way when it is retried, holding nothing twice', async () => {
      const base = await options.createStore();
      const [a, b] = await addProducts(base, 'crash-', [3, 3]);
      // The process "dies" right before the second product's append.
      let crashed = false;
      const crashing: EventStore = Object.create(base, {
        appendToStream: {
          value: (...args: Parameters<EventStore['appendToStream']>) => {
            if (!crashed && args[0] === `product-${b}`) {
              crashed = true;
              return Promise.reject(new Error('simulated crash'));
            }
            return base.appendToStream(...args);
          },
        },
      }) as EventStore;
      const lines = [
        { productId: a as string, quantity: 2 },
        { productId: b as string, quantity: 1 },
      ];
      await expect(createInventory({ store: crashing }).reserveStock('o1', lines)).rejects.toThrow(
        'simulated crash',
      );
      const outcome = await createInventory({ store: base }).reserveStock('o1', lines);
      expect(outcome.status).toBe('reserved');
      const held = await holdings(base, [a as string, b as string]);
      expect(held.get(a as string)?.held.get('o1')).toBe(2);
      expect(held.get(a as string)?.stock).toBe(1);
      expect(held.get(b as string)?.stock).toBe(2);
    });

    it('closes an order released before it reserved: a late reservation holds nothing', async () => {
      const store = await options.createStore();
      const [a] = await addProducts(store, 'late-', [3]);
      const inventory = createInventory({ store });
      await expect(inventory.releaseStock('o1')).resolves.toMatchObject({ status: 'released' });
      const late = await inventory.reserveStock('o1', [{ productId: a as string, quantity: 1 }]);
      expect(late.status).toBe('released');
      expect((await holdings(store, [a as string])).get(a as string)).toEqual({
        stock: 3,
        held: new Map(),
      });
    });

    it('refuses a retry that asks for other lines than the first request', async () => {
      const store = await options.createStore();
      const [a] = await addProducts(store, 'other-', [3]);
      const inventory = createInventory({ store });
      await inventory.reserveStock('o1', [{ productId: a as string, quantity: 1 }]);
      await expect(
        inventory.reserveStock('o1', [{ productId: a as string, quantity: 2 }]),
      ).rejects.toMatchObject({ details: { reason: 'reservation_mismatch' } });
    });
  });
}
