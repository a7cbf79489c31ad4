import { createCommandHandler, type EventStore, newEventId } from '../core/index.js';
import { type Actor, canActFor } from './actor.js';
import type { WriteOptions, WriteResult } from './commandOptions.js';
import { derivedId } from './derivedId.js';
import { loadAggregate, type LoadedAggregate } from './loadAggregate.js';
import { createInventory, type Inventory } from './inventory.js';
import {
  orderDecider,
  type OrderCommand,
  type OrderLine,
  type OrderState,
  type OrderStatus,
  orderTimeline,
  type OrderTimelineEntry,
  type PaymentMethod,
} from './orderDecider.js';
import {
  productAdder,
  type ProductAddedBy,
  productDecider,
  type ProductState,
} from './productDecider.js';
import { rejected } from './rejection.js';
import { toOrderStream, toProductStream } from './streamNames.js';

export interface Product {
  id: string;
  name: string;
  description: string;
  priceCents: number;
  /** Units left to order; null means unlimited. */
  stock: number | null;
  addedBy: ProductAddedBy;
  version: number;
  createdAt: string | undefined;
}

export interface Payment {
  id: string;
  orderId: string;
  amountCents: number;
  method: PaymentMethod;
  /** ISO time of the PaymentProcessed event. */
  processedAt: string | undefined;
}

export interface Order {
  id: string;
  userId: string;
  username: string;
  items: OrderLine[];
  totalCents: number;
  status: OrderStatus;
  payment: Payment | null;
  /** Its status changes, oldest first. */
  timeline: OrderTimelineEntry[];
  version: number;
  placedAt: string | undefined;
  updatedAt: string | undefined;
}

export interface NewProduct {
  name: string;
  description: string;
  priceCents: number;
  /** Units on hand; omitted or null means unlimited. */
  stock?: number | null;
}

export interface Shop {
  addProduct(
    actor: Actor,
    input: NewProduct,
    options?: WriteOptions,
  ): Promise<WriteResult<Product>>;
  getProduct(productId: string): Promise<Product | undefined>;
  /** Prices come from the products' streams at the moment of ordering, never from the client. */
  placeOrder(
    actor: Actor,
    input: { items: { productId: string; quantity: number }[] },
    options?: WriteOptions,
  ): Promise<WriteResult<Order>>;
  /** The order if the actor may see it (their own, or any as an admin). */
  getOrder(actor: Actor, orderId: string): Promise<Order | undefined>;
  payOrder(
    actor: Actor,
    orderId: string,
    input: { amountCents: number; method: PaymentMethod },
    options?: WriteOptions,
  ): Promise<WriteResult<{ order: Order; payment: Payment }>>;
  /**
   * The shop's services move an order on (no actor: the order workflow and shipping act for
   * the shop). Each is a no-op when the order is already there, so a redelivered message is
   * harmless; pass the causing event's id as `idempotencyKey` and in `metadata`. A move the
   * order's status forbids is a rejection (`invalid_transition`, `not_found`).
   *
   * @example
   * const outcome = await inventory.reserveStock(order.id, order.items);
   * if (outcome.status === 'reserved') await shop.orders.markReserved(order.id, { metadata });
   * else if (outcome.status === 'rejected')
   *   await shop.orders.reject(order.id, outcome.refusal.reason, { metadata });
   */
  orders: OrderTransitions;
  /** The stock of the shop's products (what `placeOrder` reserves from). */
  inventory: Inventory;
}

/** What the shop's services may do to an order; see `Shop.orders`. */
export interface OrderTransitions {
  markReserved(orderId: string, options?: ServiceWriteOptions): Promise<WriteResult<Order>>;
  reject(
    orderId: string,
    reason: string,
    options?: ServiceWriteOptions,
  ): Promise<WriteResult<Order>>;
  requestShipment(orderId: string, options?: ServiceWriteOptions): Promise<WriteResult<Order>>;
  markShipped(
    orderId: string,
    shipmentId: string,
    options?: ServiceWriteOptions,
  ): Promise<WriteResult<Order>>;
  /** Records the cancellation only; releasing the order's stock is the caller's next step. */
  cancel(
    orderId: string,
    reason: string,
    options?: ServiceWriteOptions,
  ): Promise<WriteResult<Order>>;
}

export type ServiceWriteOptions = Pick<WriteOptions, 'idempotencyKey' | 'metadata'>;

export interface ShopOptions {
  store: EventStore;
  /**
   * When true (the default), `placeOrder` reserves the order's stock itself right after
   * placing it and answers it `reserved` or `rejected`, as a stand-in for the order
   * workflow. Set it to false once that workflow reserves stock from `OrderPlaced`: orders
   * are then answered `placed`.
   */
  reserveOnPlace?: boolean;
}

const toProduct = (loaded: LoadedAggregate<ProductState>): Product => ({
  id: loaded.state.productId,
  name: loaded.state.name,
  description: loaded.state.description,
  priceCents: loaded.state.priceCents,
  stock: loaded.state.stock,
  addedBy: productAdder(loaded.state.addedBy),
  version: loaded.version,
  createdAt: loaded.createdAt,
});

const toOrder = (loaded: LoadedAggregate<OrderState>, timeline: OrderTimelineEntry[]): Order => {
  const { state } = loaded;
  return {
    id: state.orderId,
    userId: state.userId,
    username: state.username,
    items: state.items,
    totalCents: state.totalCents,
    status: state.status === 'none' ? 'placed' : state.status,
    payment:
      state.payment === null
        ? null
        : {
            id: state.payment.paymentId,
            orderId: state.orderId,
            amountCents: state.payment.amountCents,
            method: state.payment.method,
            processedAt: timeline.find((t) => t.status === 'paid')?.at,
          },
    timeline,
    version: loaded.version,
    placedAt: loaded.createdAt,
    updatedAt: loaded.updatedAt,
  };
};

/** The shop: products, orders and payments, with the source material's events. */
export function createShop({ store, reserveOnPlace = true }: ShopOptions): Shop {
  const products = createCommandHandler({ store, decider: productDecider });
  const orders = createCommandHandler({ store, decider: orderDecider });
  const inventory = createInventory({ store });
  const loadProduct = (id: string) => loadAggregate(store, toProductStream(id), productDecider);
  const loadOrderState = (id: string) => loadAggregate(store, toOrderStream(id), orderDecider);
  const loadOrder = async (id: string): Promise<Order> => {
    const events = await store.readStream(toOrderStream(id), { from: 1 });
    let state = orderDecider.initialState();
    for (const event of events) state = orderDecider.evolve(state, event as never);
    const last = events[events.length - 1];
    return toOrder(
      {
        state,
        version: last?.version ?? 0,
        position: last?.position ?? 0,
        createdAt: events[0]?.recordedAt.toISOString(),
        updatedAt: last?.recordedAt.toISOString(),
      },
      orderTimeline(events),
    );
  };
  const transition = async (
    orderId: string,
    command: OrderCommand,
    options: ServiceWriteOptions = {},
  ): Promise<WriteResult<Order>> => {
    const result = await orders(toOrderStream(orderId), command, {
      idempotencyKey: options.idempotencyKey,
      metadata: options.metadata,
    });
    return {
      value: await loadOrder(orderId),
      position: result.lastPosition,
      version: result.nextExpectedVersion,
      replayed: result.idempotentReplay,
    };
  };
  const newId = (scope: string, actor: Actor, key: string | undefined): string =>
    key === undefined ? newEventId() : derivedId(scope, actor.userId, key);

  return {
    async addProduct(actor, input, options = {}) {
      const productId = newId('product', actor, options.idempotencyKey);
      const result = await products(
        toProductStream(productId),
        {
          type: 'AddProduct',
          productId,
          ...input,
          addedBy: { userId: actor.userId, username: actor.username, role: actor.role },
        },
        { idempotencyKey: options.idempotencyKey, metadata: options.metadata },
      );
      return {
        value: toProduct(await loadProduct(productId)),
        position: result.lastPosition,
        version: result.nextExpectedVersion,
        replayed: result.idempotentReplay,
      };
    },

    async getProduct(productId) {
      const loaded = await loadProduct(productId);
      return loaded.state.exists ? toProduct(loaded) : undefined;
    },

    async placeOrder(actor, input, options = {}) {
      const lines: OrderLine[] = [];
      for (const [i, item] of input.items.entries()) {
        const product = await loadProduct(item.productId);
        if (!product.state.exists) {
          throw rejected(
            'unknown_product',
            `There is no product ${item.productId}`,
            `items[${i}].product_id`,
          );
        }
        lines.push({
          productId: item.productId,
          name: product.state.name,
          quantity: item.quantity,
          unitPriceCents: product.state.priceCents,
        });
      }
      const orderId = newId('order', actor, options.idempotencyKey);
      const result = await orders(
        toOrderStream(orderId),
        {
          type: 'PlaceOrder',
          orderId,
          userId: actor.userId,
          username: actor.username,
          items: lines,
        },
        { idempotencyKey: options.idempotencyKey, metadata: options.metadata },
      );
      const placed = {
        value: await loadOrder(orderId),
        position: result.lastPosition,
        version: result.nextExpectedVersion,
        replayed: result.idempotentReplay,
      };
      if (!reserveOnPlace || placed.value.status !== 'placed') return placed;
      // Stands in for the order workflow: reserve now, and answer the outcome. A retried
      // request lands here again harmlessly (both steps are idempotent per order).
      const metadata = options.metadata;
      const outcome = await inventory.reserveStock(orderId, lines, { metadata });
      const moved =
        outcome.status === 'rejected'
          ? await transition(
              orderId,
              { type: 'RejectOrder', reason: outcome.refusal.reason },
              { metadata },
            )
          : await transition(orderId, { type: 'MarkReserved' }, { metadata });
      return { ...moved, replayed: placed.replayed };
    },

    async getOrder(actor, orderId) {
      const order = await loadOrder(orderId);
      if (order.version === 0 || !canActFor(actor, order.userId)) return undefined;
      return order;
    },

    async payOrder(actor, orderId, input, options = {}) {
      const loaded = await loadOrderState(orderId);
      // Someone else's order reads as missing: its existence is none of the actor's business.
      if (loaded.state.status === 'none' || !canActFor(actor, loaded.state.userId)) {
        throw rejected('not_found', `There is no order ${orderId}`);
      }
      // With an idempotency key a retry legitimately comes back with the version it saw
      // before its first attempt; the handler answers it with the original result, so the
      // If-Match check is left to the append.
      const expected = options.expectedVersion;
      if (options.idempotencyKey === undefined && expected !== undefined) {
        if (expected !== loaded.version) {
          throw rejected(
            'stale_version',
            `The order is at version ${loaded.version}, not ${expected}; reload it and retry`,
          );
        }
      }
      const paymentId = newId('payment', actor, options.idempotencyKey);
      const result = await orders(
        toOrderStream(orderId),
        { type: 'ProcessPayment', paymentId, amountCents: input.amountCents, method: input.method },
        {
          idempotencyKey: options.idempotencyKey,
          metadata: options.metadata,
          ...(expected !== undefined ? { expectedVersion: expected } : {}),
        },
      );
      const order = await loadOrder(orderId);
      return {
        value: { order, payment: order.payment as Payment },
        position: result.lastPosition,
        version: result.nextExpectedVersion,
        replayed: result.idempotentReplay,
      };
    },

    orders: {
      markReserved: (orderId, options) => transition(orderId, { type: 'MarkReserved' }, options),
      reject: (orderId, reason, options) =>
        transition(orderId, { type: 'RejectOrder', reason }, options),
      requestShipment: (orderId, options) =>
        transition(orderId, { type: 'RequestShipment' }, options),
      markShipped: (orderId, shipmentId, options) =>
        transition(orderId, { type: 'MarkShipped', shipmentId }, options),
      cancel: (orderId, reason, options) =>
        transition(orderId, { type: 'CancelOrder', reason }, options),
    },
    inventory,
  };
}
