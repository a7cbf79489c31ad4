import type { DocumentStore } from '../core/index.js';
import {
  COLLECTIONS,
  type OrderDoc,
  type PaymentDoc,
  type ProductDoc,
  type TweetDoc,
  type UserDoc,
} from './readModelProjections.js';

/** Queries over the read models (eventually consistent; see `ReferenceApp.waitForReadModels`). */
export interface ReadModelQueries {
  users(options?: { limit?: number }): Promise<UserDoc[]>;
  user(userId: string): Promise<UserDoc | undefined>;
  tweets(options?: { userId?: string; limit?: number }): Promise<TweetDoc[]>;
  products(options?: { limit?: number }): Promise<ProductDoc[]>;
  orders(options?: { userId?: string; limit?: number }): Promise<OrderDoc[]>;
  payments(options?: { userId?: string; limit?: number }): Promise<PaymentDoc[]>;
}

export function createReadModelQueries(docs: DocumentStore): ReadModelQueries {
  const newest = (limit: number | undefined) => ({
    sort: { field: 'position', direction: 'desc' as const },
    ...(limit !== undefined ? { limit } : {}),
  });
  const byUser = (userId: string | undefined) => (userId === undefined ? undefined : { userId });
  return {
    users: (o = {}) =>
      docs.find<UserDoc>(COLLECTIONS.users, undefined, {
        sort: { field: 'position' },
        ...(o.limit !== undefined ? { limit: o.limit } : {}),
      }),
    user: (userId) => docs.get<UserDoc>(COLLECTIONS.users, userId),
    tweets: (o = {}) => docs.find<TweetDoc>(COLLECTIONS.tweets, byUser(o.userId), newest(o.limit)),
    products: (o = {}) =>
      docs.find<ProductDoc>(COLLECTIONS.products, undefined, {
        sort: { field: 'position', direction: 'asc' },
        ...(o.limit !== undefined ? { limit: o.limit } : {}),
      }),
    orders: (o = {}) => docs.find<OrderDoc>(COLLECTIONS.orders, byUser(o.userId), newest(o.limit)),
    payments: (o = {}) =>
      docs.find<PaymentDoc>(COLLECTIONS.payments, byUser(o.userId), newest(o.limit)),
  };
}
