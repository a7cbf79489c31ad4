// Stream ids of the reference app: `<category>-<id>`, so the category (the part before the
// first `-`) names the aggregate, as Kafka topics and the event explorer expect.

export type UserStreamId = `user-${string}`;
export type TweetStreamId = `tweet-${string}`;
export type ProductStreamId = `product-${string}`;
export type OrderStreamId = `order-${string}`;
export type UsernameStreamId = `username-${string}`;
export type EmailStreamId = `email-${string}`;

/** The aggregate kinds the app keeps, by stream category. */
export type AppCategory = 'user' | 'tweet' | 'product' | 'order' | 'username' | 'email';

export const APP_CATEGORIES: readonly AppCategory[] = [
  'user',
  'tweet',
  'product',
  'order',
  'username',
  'email',
];

export const toUserStream = (userId: string): UserStreamId => `user-${userId}`;
export const toTweetStream = (tweetId: string): TweetStreamId => `tweet-${tweetId}`;
export const toProductStream = (productId: string): ProductStreamId => `product-${productId}`;
export const toOrderStream = (orderId: string): OrderStreamId => `order-${orderId}`;

/** The category of a stream id (`user-42` → `user`): the same rule as the Kafka topics. */
export { streamCategory as categoryOf } from '../core/streamCategory.js';

export function isAppCategory(category: string): category is AppCategory {
  return (APP_CATEGORIES as readonly string[]).includes(category);
}

/** Ids the app generates are UUIDs; anything else in a URL cannot name one of its entities. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isEntityId(value: string): boolean {
  return UUID.test(value);
}

/**
 * One order's stock reservation (see `inventory.ts`). Not an `AppCategory`: it is the
 * inventory's bookkeeping, not an aggregate the API shows.
 */
export type ReservationStreamId = `reservation-${string}`;
export const toReservationStream = (orderId: string): ReservationStreamId =>
  `reservation-${orderId}`;
