import { createCommandHandler, type EventStore, newEventId } from '../core/index.js';
import { type Actor, canActFor } from './actor.js';
import type { WriteOptions, WriteResult } from './commandOptions.js';
import { derivedId } from './derivedId.js';
import { loadAggregate, type LoadedAggregate } from './loadAggregate.js';
import {
  orderDecider,
  type OrderLine,
  type OrderState,
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
  status: 'placed' | 'paid';
  payment: Payment | null;
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

const toOrder = (loaded: LoadedAggregate<OrderState>): Order => {
  const { state } = loaded;
  return {
    id: state.orderId,
    userId: state.userId,
    username: state.username,
    items: state.items,
    totalCents: state.totalCents,
    status: state.status === 'paid' ? 'paid' : 'placed',
    payment:
      state.payment === null
        ? null
        : {
            id: state.payment.paymentId,
            orderId: state.orderId,
            amountCents: state.payment.amountCents,
            method: state.payment.method,
            // Payment is the last thing that happens to an order.
            processedAt: loaded.updatedAt,
          },
    version: loaded.version,
    placedAt: loaded.createdAt,
    updatedAt: loaded.updatedAt,
  };
};

/** The shop: products, orders and payments, with the source material's events. */
export function createShop({ store }: { store: EventStore }): Shop {
  const products = createCommandHandler({ store, decider: productDecider });
  const orders = createCommandHandler({ store, decider: orderDecider });
  const loadProduct = (id: string) => loadAggregate(store, toProductStream(id), productDecider);
  const loadOrder = (id: string) => loadAggregate(store, toOrderStream(id), orderDecider);
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
      return {
        value: toOrder(await loadOrder(orderId)),
        position: result.lastPosition,
        version: result.nextExpectedVersion,
        replayed: result.idempotentReplay,
      };
    },

    async getOrder(actor, orderId) {
      const loaded = await loadOrder(orderId);
      if (loaded.state.status === 'none' || !canActFor(actor, loaded.state.userId)) {
        return undefined;
      }
      return toOrder(loaded);
    },

    async payOrder(actor, orderId, input, options = {}) {
      const loaded = await loadOrder(orderId);
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
      const order = toOrder(await loadOrder(orderId));
      return {
        value: { order, payment: order.payment as Payment },
        position: result.lastPosition,
        version: result.nextExpectedVersion,
        replayed: result.idempotentReplay,
      };
    },
  };
}
