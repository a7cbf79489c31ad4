import {
  createCommandHandler,
  type EventMetadata,
  type EventStore,
  ValidationError,
} from '../core/index.js';
import { loadAggregate } from './loadAggregate.js';
import { productDecider } from './productDecider.js';
import { rejectionOf } from './rejection.js';
import {
  type ReservationRefusal,
  reservationDecider,
  type ReservationState,
  type StockLine,
} from './reservationDecider.js';
import { toProductStream, toReservationStream } from './streamNames.js';

/**
 * How an order's reservation stands. `reserved`: every line is held. `rejected`: nothing is
 * held, `refusal` says which line could not be. `released`: nothing is held any more (or
 * never was, when the release came first).
 */
export type ReservationOutcome =
  | { status: 'reserved'; orderId: string; lines: StockLine[] }
  | { status: 'rejected'; orderId: string; lines: StockLine[]; refusal: ReservationRefusal }
  | { status: 'released'; orderId: string; lines: StockLine[] };

export interface Inventory {
  /**
   * Reserves every line for the order, or none: a refused line rejects the whole order and
   * releases what its other lines held. Idempotent per order: a retry (also after a crash
   * half-way) answers the recorded outcome and never holds a unit twice; asking again with
   * other lines is refused (`reservation_mismatch`). After `releaseStock` it reserves nothing
   * and answers `released`.
   *
   * @example
   * const outcome = await inventory.reserveStock(orderId, [{ productId, quantity: 2 }]);
   * if (outcome.status === 'rejected') console.log(outcome.refusal.reason); // 'out_of_stock'
   */
  reserveStock(
    orderId: string,
    lines: readonly StockLine[],
    options?: InventoryWriteOptions,
  ): Promise<ReservationOutcome>;
  /**
   * Gives back what the order holds. Idempotent; releasing an order that never reserved
   * closes it, so a late `reserveStock` for it holds nothing. A rejected reservation stays
   * `rejected` (it holds nothing already).
   */
  releaseStock(orderId: string, options?: InventoryWriteOptions): Promise<ReservationOutcome>;
  /** The order's reservation as recorded; undefined while none was asked for or decided. */
  getReservation(orderId: string): Promise<ReservationOutcome | undefined>;
}

export interface InventoryWriteOptions {
  /** Stored on every event written (the causing event's id, a trace parent…). */
  metadata?: EventMetadata;
}

/** Lines merged per product and sorted by product id: one deterministic order for every run. */
function normalize(lines: readonly StockLine[]): StockLine[] {
  const byProduct = new Map<string, number>();
  lines.forEach((line, i) => {
    if (typeof line.productId !== 'string' || line.productId === '') {
      throw new ValidationError(`lines[${i}].productId`, 'must be a non-empty product id');
    }
    if (!Number.isSafeInteger(line.quantity) || line.quantity < 1) {
      throw new ValidationError(
        `lines[${i}].quantity`,
        `must be an integer >= 1; got ${String(line.quantity)}`,
      );
    }
    byProduct.set(line.productId, (byProduct.get(line.productId) ?? 0) + line.quantity);
  });
  if (byProduct.size === 0) throw new ValidationError('lines', 'must name at least one product');
  return [...byProduct.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([productId, quantity]) => ({ productId, quantity }));
}

function outcomeOf(state: ReservationState): ReservationOutcome | undefined {
  const { orderId, lines } = state;
  switch (state.status) {
    case 'none':
    case 'requested':
      return undefined;
    case 'reserved':
    case 'released':
      return { status: state.status, orderId, lines };
    case 'rejected':
      return { status: 'rejected', orderId, lines, refusal: state.refusal as ReservationRefusal };
  }
}

/**
 * Stock reservations across products, without multi-stream transactions (the stores append
 * atomically to one stream only, and MongoDB may not offer transactions).
 *
 * Design: each product's stream holds its stock and one reservation per order (so optimistic
 * concurrency on that stream alone guarantees it is never oversold), and each order has a
 * `reservation-<orderId>` stream recording what was asked and how it ended. A reservation:
 *
 * 1. records the request (the same lines on every retry: lines are merged and sorted);
 * 2. reserves line by line in product-id order; a product's decider makes a repeated
 *    reservation for the same order a no-op, so a retry after a crash picks up where the
 *    first run stopped without holding anything twice;
 * 3. records the outcome on the order's stream — confirmed, or rejected at the first
 *    refused line. The outcome is decided once (an optimistic append against the request's
 *    version): concurrent runs for the same order all answer whichever outcome got there first;
 * 4. if the outcome is rejected or released, compensates: releases the order at every line's
 *    product. A release closes the order there for good (even with nothing held, as a
 *    zero-unit release), so a concurrent run still at step 2 cannot leave a unit behind:
 *    its reservation either came before the release (and is released) or after (and is
 *    refused). A crash before compensation finishes is repaired by any later reserve or
 *    release call for the order, which re-runs the (idempotent) compensation.
 *
 * Between steps 2 and 4 a rejected order briefly holds some lines; that is the price of not
 * locking, and only ever makes another order see less stock for a moment, never more.
 */
export function createInventory({ store }: { store: EventStore }): Inventory {
  // Popular products see many orders at once: retry conflicts longer than the default.
  const retry = { maxAttempts: 50, initialDelayMs: 1, maxDelayMs: 100 };
  const products = createCommandHandler({ store, decider: productDecider, retry });
  const reservations = createCommandHandler({ store, decider: reservationDecider, retry });

  async function compensate(
    orderId: string,
    lines: readonly StockLine[],
    options: InventoryWriteOptions,
  ): Promise<void> {
    for (const line of lines) {
      await products(
        toProductStream(line.productId),
        { type: 'ReleaseStock', orderId },
        { metadata: options.metadata },
      );
    }
  }

  /** Step 2: the first refused line, or undefined when every line is held. */
  async function reserveLines(
    orderId: string,
    lines: readonly StockLine[],
    options: InventoryWriteOptions,
  ): Promise<ReservationRefusal | 'closed' | undefined> {
    for (const { productId, quantity } of lines) {
      try {
        await products(
          toProductStream(productId),
          { type: 'ReserveStock', orderId, quantity },
          { metadata: options.metadata },
        );
      } catch (error) {
        const reason = rejectionOf(error)?.reason;
        if (reason === 'out_of_stock' || reason === 'unknown_product') {
          return { reason, productId, requested: quantity };
        }
        // Another run already released this order here: its outcome is recorded.
        if (reason === 'reservation_closed') return 'closed';
        throw error;
      }
    }
    return undefined;
  }

  async function settle(
    state: ReservationState,
    orderId: string,
    options: InventoryWriteOptions,
  ): Promise<ReservationOutcome> {
    const outcome = outcomeOf(state);
    if (outcome === undefined) {
      throw new Error(`Order ${orderId}'s reservation has no outcome yet; retry the call`);
    }
    if (outcome.status !== 'reserved') await compensate(orderId, state.lines, options);
    return outcome;
  }

  return {
    async reserveStock(orderId, lines, options = {}) {
      const stream = toReservationStream(orderId);
      const wanted = normalize(lines);
      const requested = await reservations(
        stream,
        { type: 'RequestReservation', orderId, lines: wanted },
        { metadata: options.metadata },
      );
      if (requested.state.status !== 'requested') {
        return settle(requested.state, orderId, options);
      }
      const refusal = await reserveLines(orderId, wanted, options);
      if (refusal === 'closed') {
        // Only compensation closes an order at a product, and it runs after the outcome is
        // recorded: read that outcome.
        const { state } = await loadAggregate(store, stream, reservationDecider);
        return settle(state, orderId, options);
      }
      const decided = await reservations(
        stream,
        refusal === undefined
          ? { type: 'ConfirmReservation' }
          : { type: 'RejectReservation', refusal },
        { metadata: options.metadata },
      );
      return settle(decided.state, orderId, options);
    },

    async releaseStock(orderId, options = {}) {
      const released = await reservations(
        toReservationStream(orderId),
        { type: 'ReleaseReservation', orderId },
        { metadata: options.metadata },
      );
      return settle(released.state, orderId, options);
    },

    async getReservation(orderId) {
      const { state } = await loadAggregate(
        store,
        toReservationStream(orderId),
        reservationDecider,
      );
      return outcomeOf(state);
    },
  };
}
