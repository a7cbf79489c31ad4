// The JSON the API answers with. App resources keep the source material's snake_case
// (`user_list`, `tweetedby`, `tweets_list`); the generic store API shows events exactly as the
// library types them (camelCase, as `eventloom events` prints them).
import type {
  Account,
  Order,
  OrderDoc,
  Payment,
  PaymentDoc,
  Product,
  ProductDoc,
  TweetDoc,
  UserDoc,
} from '../app/index.js';
import type { RecordedEvent } from '../core/index.js';
import { toEventJson } from '../core/eventJson.js';
import type { ApiEvent } from './apiResponseSchemas.js';

export type { ApiEvent } from './apiResponseSchemas.js';

/** An event as the store API shows it: the one wire form, checked against the response schema. */
export const toApiEvent: (e: RecordedEvent) => ApiEvent = toEventJson;

/** A user; `email` only for the user themself and admins (a read-model row has none). */
export function toApiUser(
  user: Account | UserDoc,
  showEmail: boolean,
): Record<string, string | number> {
  return {
    id: user.id,
    username: user.username,
    name: user.name,
    ...(showEmail && typeof user.email === 'string' ? { email: user.email } : {}),
    created_at: user.createdAt ?? '',
    updated_at: user.updatedAt ?? '',
    version: user.version,
  };
}

export const toApiTweet = (
  t: TweetDoc | { id: string; body: string; username: string; userId: string; postedAt: string },
) => ({
  id: t.id,
  body: t.body,
  tweetedby: t.username,
  user_id: t.userId,
  timestamp: t.postedAt,
});

export const toApiProduct = (p: Product | ProductDoc) => ({
  id: p.id,
  name: p.name,
  description: p.description,
  price_cents: p.priceCents,
  stock: p.stock ?? null,
  added_by: { user_id: p.addedBy.userId, username: p.addedBy.username, role: p.addedBy.role },
  created_at: p.createdAt ?? '',
  version: p.version,
});

const toApiLine = (l: Order['items'][number]) => ({
  product_id: l.productId,
  name: l.name,
  quantity: l.quantity,
  unit_price_cents: l.unitPriceCents,
  line_total_cents: l.quantity * l.unitPriceCents,
});

export function toApiOrder(o: Order | OrderDoc) {
  const payment =
    o.payment === null
      ? null
      : {
          id: o.payment.id,
          amount_cents: o.payment.amountCents,
          method: o.payment.method,
          processed_at: o.payment.processedAt ?? '',
        };
  return {
    id: o.id,
    user_id: o.userId,
    username: o.username,
    items: o.items.map(toApiLine),
    total_cents: o.totalCents,
    status: o.status,
    payment,
    timeline: (o.timeline ?? []).map((t) => ({ status: t.status, at: t.at, event_id: t.eventId })),
    placed_at: o.placedAt ?? '',
    updated_at: o.updatedAt ?? '',
    version: o.version,
  };
}

export const toApiPayment = (p: Payment | PaymentDoc) => ({
  id: p.id,
  order_id: p.orderId,
  amount_cents: p.amountCents,
  method: p.method,
  processed_at: p.processedAt ?? '',
});
