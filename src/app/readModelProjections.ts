import {
  ERASED,
  type Projection,
  type RecordedEvent,
  workflowInstancesProjection,
} from '../core/index.js';
import {
  type OrderEvent,
  type OrderStatus,
  orderTimeline,
  type OrderTimelineEntry,
} from './orderDecider.js';
import { productAdder, type ProductEvent } from './productDecider.js';
import type { TweetEvent } from './tweetDecider.js';
import type { UserEvent } from './userDecider.js';

/** Read-model collections, by name. */
export const COLLECTIONS = {
  users: 'users',
  tweets: 'tweets',
  products: 'products',
  orders: 'orders',
  payments: 'payments',
} as const;

/**
 * A user's public profile. The email is not kept here: read models are copies that a forget
 * cannot reach in every store, and only the user and admins may see it (from the account).
 */
export interface UserDoc extends Record<string, unknown> {
  id: string;
  username: string;
  name: string;
  createdAt: string;
  updatedAt: string;
  version: number;
  /** Global position of the registration (the list's order). */
  position: number;
}

export interface TweetDoc extends Record<string, unknown> {
  id: string;
  body: string;
  userId: string;
  username: string;
  postedAt: string;
  position: number;
}

export interface ProductDoc extends Record<string, unknown> {
  id: string;
  name: string;
  description: string;
  priceCents: number;
  /** Units left to order; null (or absent, in documents older than stock) means unlimited. */
  stock?: number | null;
  addedBy: { userId: string; username: string; role: string };
  createdAt: string;
  version: number;
  position: number;
}

export interface OrderDoc extends Record<string, unknown> {
  id: string;
  userId: string;
  username: string;
  items: { productId: string; name: string; quantity: number; unitPriceCents: number }[];
  totalCents: number;
  status: OrderStatus;
  payment: { id: string; amountCents: number; method: string; processedAt: string } | null;
  /** Absent in documents projected before timelines existed (rebuild to fill it). */
  timeline?: OrderTimelineEntry[];
  placedAt: string;
  updatedAt: string;
  version: number;
  position: number;
}

export interface PaymentDoc extends Record<string, unknown> {
  id: string;
  orderId: string;
  userId: string;
  amountCents: number;
  method: string;
  processedAt: string;
  position: number;
}

type Typed<E extends { type: string; data: unknown }> = E & RecordedEvent;

const at = (e: RecordedEvent): string => e.recordedAt.toISOString();

/** `users`: one document per active account (deleted accounts disappear). */
export const usersProjection: Projection = {
  name: 'app-users',
  collections: [COLLECTIONS.users],
  eventTypes: ['UserRegistered', 'UserProfileUpdated', 'PasswordChanged', 'UserDeleted'],
  async handle(raw, docs) {
    const event = raw as Typed<UserEvent>;
    const id = event.streamId.slice('user-'.length);
    if (event.type === 'UserRegistered') {
      const { userId, username, name } = event.data;
      const doc: UserDoc = {
        id: userId,
        username,
        name,
        createdAt: at(event),
        updatedAt: at(event),
        version: event.version,
        position: event.position,
      };
      await docs.put(COLLECTIONS.users, id, doc);
      return;
    }
    if (event.type === 'UserDeleted') {
      await docs.delete(COLLECTIONS.users, id);
      return;
    }
    const current = await docs.get<UserDoc>(COLLECTIONS.users, id);
    if (current === undefined) return;
    const changes =
      event.type === 'UserProfileUpdated' && event.data.name !== undefined
        ? { name: event.data.name }
        : {};
    await docs.put(COLLECTIONS.users, id, {
      ...current,
      ...changes,
      updatedAt: at(event),
      version: event.version,
    });
  },
};

/** `tweets`: every tweet of an active account; an account's deletion removes its tweets. */
export const tweetsProjection: Projection = {
  name: 'app-tweets',
  collections: [COLLECTIONS.tweets],
  eventTypes: ['TweetPosted', 'UserDeleted'],
  async handle(raw, docs) {
    const event = raw as Typed<TweetEvent | UserEvent>;
    if (event.type === 'TweetPosted') {
      const { tweetId, body, userId, username } = event.data;
      const doc: TweetDoc = {
        id: tweetId,
        body,
        userId,
        username,
        postedAt: at(event),
        position: event.position,
      };
      await docs.put(COLLECTIONS.tweets, tweetId, doc);
    } else if (event.type === 'UserDeleted') {
      const tweets = await docs.find<TweetDoc>(COLLECTIONS.tweets, { userId: event.data.userId });
      for (const t of tweets) await docs.delete(COLLECTIONS.tweets, t.id);
    }
  },
};

/** An order document after one more of its events (its status only if the event sets one). */
function orderMoved(order: OrderDoc, event: RecordedEvent): OrderDoc {
  const step = orderTimeline([event]);
  return {
    ...order,
    status: step[0]?.status ?? order.status,
    timeline: [...(order.timeline ?? []), ...step],
    updatedAt: at(event),
    version: event.version,
  };
}

/**
 * `products`, `orders` and `payments` of the shop. Orders and products outlive a deleted
 * account (they are the shop's records), anonymised: the username reads `'[erased]'`.
 */
export const shopProjection: Projection = {
  name: 'app-shop',
  collections: [COLLECTIONS.products, COLLECTIONS.orders, COLLECTIONS.payments],
  eventTypes: [
    'ProductAdded',
    'StockReserved',
    'StockReleased',
    'OrderPlaced',
    'OrderReserved',
    'OrderRejected',
    'PaymentProcessed',
    'ShipmentRequested',
    'OrderShipped',
    'OrderCancelled',
    'UserDeleted',
  ],
  async handle(raw, docs) {
    const event = raw as Typed<ProductEvent | OrderEvent | UserEvent>;
    switch (event.type) {
      case 'UserDeleted': {
        const { userId } = event.data;
        for (const order of await docs.find<OrderDoc>(COLLECTIONS.orders, { userId })) {
          await docs.put(COLLECTIONS.orders, order.id, { ...order, username: ERASED });
        }
        // Products are few and added by admins: no index on the adder.
        for (const product of await docs.find<ProductDoc>(COLLECTIONS.products)) {
          if (product.addedBy.userId !== userId) continue;
          await docs.put(COLLECTIONS.products, product.id, {
            ...product,
            addedBy: { ...product.addedBy, username: ERASED },
          });
        }
        return;
      }
      case 'ProductAdded': {
        const { productId, name, description, priceCents, addedBy } = event.data;
        const doc: ProductDoc = {
          id: productId,
          name,
          description,
          priceCents,
          stock: event.data.stock ?? null,
          addedBy: productAdder(addedBy, event.metadata.userId),
          createdAt: at(event),
          version: event.version,
          position: event.position,
        };
        await docs.put(COLLECTIONS.products, productId, doc);
        return;
      }
      case 'StockReserved':
      case 'StockReleased': {
        const { productId, remaining } = event.data;
        const product = await docs.get<ProductDoc>(COLLECTIONS.products, productId);
        if (product === undefined) return;
        await docs.put(COLLECTIONS.products, productId, {
          ...product,
          stock: remaining,
          version: event.version,
        });
        return;
      }
      case 'OrderPlaced': {
        const { orderId, userId, username, items, totalCents } = event.data;
        const doc: OrderDoc = {
          id: orderId,
          userId,
          username,
          items,
          totalCents,
          status: 'placed',
          payment: null,
          timeline: orderTimeline([event]),
          placedAt: at(event),
          updatedAt: at(event),
          version: event.version,
          position: event.position,
        };
        await docs.put(COLLECTIONS.orders, orderId, doc);
        return;
      }
      case 'PaymentProcessed': {
        const { paymentId, orderId, amountCents, method } = event.data;
        const order = await docs.get<OrderDoc>(COLLECTIONS.orders, orderId);
        const payment: PaymentDoc = {
          id: paymentId,
          orderId,
          userId: order?.userId ?? '',
          amountCents,
          method,
          processedAt: at(event),
          position: event.position,
        };
        await docs.put(COLLECTIONS.payments, paymentId, payment);
        if (order !== undefined) {
          await docs.put(COLLECTIONS.orders, orderId, {
            ...order,
            ...orderMoved(order, event),
            payment: { id: paymentId, amountCents, method, processedAt: at(event) },
          });
        }
        return;
      }
      case 'OrderReserved':
      case 'OrderRejected':
      case 'ShipmentRequested':
      case 'OrderShipped':
      case 'OrderCancelled': {
        const order = await docs.get<OrderDoc>(COLLECTIONS.orders, event.data.orderId);
        if (order !== undefined) {
          await docs.put(COLLECTIONS.orders, order.id, orderMoved(order, event));
        }
        return;
      }
    }
  },
};

/**
 * The read models' access paths: every list sorts by `position`, some filter by `userId`.
 * Create these indexes in the read store (see the server's `ensureReadModelIndexes`); the
 * portable DocumentStore API cannot, and a list would sort the whole collection otherwise.
 */
export const READ_MODEL_INDEXES: readonly { collection: string; fields: readonly string[] }[] = [
  { collection: COLLECTIONS.users, fields: ['position'] },
  { collection: COLLECTIONS.tweets, fields: ['position'] },
  { collection: COLLECTIONS.tweets, fields: ['userId', 'position'] },
  { collection: COLLECTIONS.products, fields: ['position'] },
  { collection: COLLECTIONS.orders, fields: ['position'] },
  { collection: COLLECTIONS.orders, fields: ['userId', 'position'] },
  { collection: COLLECTIONS.payments, fields: ['position'] },
  { collection: COLLECTIONS.payments, fields: ['userId', 'position'] },
];

export const APP_PROJECTIONS: readonly Projection[] = [
  usersProjection,
  tweetsProjection,
  shopProjection,
  // The explorer's list of workflow instances (whichever workflows run on this store).
  workflowInstancesProjection('app-workflow-instances'),
];
