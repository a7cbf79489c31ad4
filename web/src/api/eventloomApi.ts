import type { ApiClient, ApiResponse } from './apiClient.ts';
import type {
  AggregateState,
  EventPage,
  EventRate,
  Order,
  Payment,
  PaymentMethod,
  Product,
  SessionInfo,
  StreamPage,
  SubscriptionList,
  Tweet,
  User,
  DevEmail,
  WorkflowInstance,
  WorkflowInstanceList,
} from './types.ts';

const q = (params: Record<string, string | number | undefined>): string => {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined) search.set(key, String(value));
  }
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
};
const seg = encodeURIComponent;

/** A fresh Idempotency-Key: a retried command with it writes nothing new. */
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  // randomUUID needs a secure context; plain http on a LAN address has none.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export interface NewUser {
  username: string;
  email: string;
  name: string;
  password: string;
}

export interface UserChanges {
  name?: string;
  email?: string;
  password?: string;
  current_password?: string;
}

export interface NewProduct {
  name: string;
  description?: string;
  price_cents: number;
  /** Units to sell; omitted: unlimited. */
  stock?: number;
}

/** Eventloom's HTTP API, one typed function per operation of /api/openapi.json. */
export function createEventloomApi(client: ApiClient) {
  return {
    session: () => client.get<SessionInfo>('/api/session'),
    logIn: (username: string, password: string) =>
      client.send<SessionInfo>('POST', '/api/session', { username, password }),
    logOut: () => client.send<undefined>('DELETE', '/api/session'),

    register: (user: NewUser) => client.send<{ user: User }>('POST', '/api/v1/users', user),
    user: (idOrName: string) =>
      client.get<{ user_details: User[] }>(`/api/v1/users/${seg(idOrName)}`),
    updateUser: (id: string, changes: UserChanges, etag: string | undefined) =>
      client.send<{ user: User }>(
        'PUT',
        `/api/v1/users/${seg(id)}`,
        changes,
        etag !== undefined ? { 'if-match': etag } : {},
      ),

    tweets: (minPosition?: number) =>
      client.get<{ tweets_list: Tweet[] }>(`/api/v2/tweets${q({ min_position: minPosition })}`),
    tweetsOf: (username: string, minPosition?: number) =>
      client.get<{ tweets_list: Tweet[] }>(
        `/api/v2/tweets/${seg(username)}${q({ min_position: minPosition })}`,
      ),
    postTweet: (body: string) =>
      client.send<{ tweet: Tweet }>(
        'POST',
        '/api/v2/tweets',
        { body },
        { 'idempotency-key': newIdempotencyKey() },
      ),

    products: (minPosition?: number) =>
      client.get<{ products: Product[] }>(`/api/shop/products${q({ min_position: minPosition })}`),
    addProduct: (product: NewProduct) =>
      client.send<{ product: Product }>('POST', '/api/shop/products', product, {
        'idempotency-key': newIdempotencyKey(),
      }),
    orders: (minPosition?: number) =>
      client.get<{ orders: Order[] }>(`/api/shop/orders${q({ min_position: minPosition })}`),
    placeOrder: (items: { product_id: string; quantity: number }[]) =>
      client.send<{ order: Order }>(
        'POST',
        '/api/shop/orders',
        { items },
        { 'idempotency-key': newIdempotencyKey() },
      ),
    payOrder: (order: Pick<Order, 'id' | 'version'>, amountCents: number, method: PaymentMethod) =>
      client.send<{ payment: Payment; order: Order }>(
        'POST',
        `/api/shop/orders/${seg(order.id)}/payments`,
        { amount_cents: amountCents, method },
        { 'idempotency-key': newIdempotencyKey(), 'if-match': `"${order.version}"` },
      ),

    events: (from?: number, limit?: number) =>
      client.get<EventPage>(`/api/events${q({ from, limit })}`),
    /** The events of one correlation among `limit` read from `from`; page on with `nextFrom`. */
    correlatedEvents: (correlationId: string, from: number, limit = 1000) =>
      client.get<EventPage>(`/api/events${q({ correlation_id: correlationId, from, limit })}`),
    stream: (streamId: string) => client.get<StreamPage>(`/api/streams/${seg(streamId)}`),
    aggregateState: (streamId: string, version?: number) =>
      client.get<AggregateState>(`/api/streams/${seg(streamId)}/state${q({ version })}`),
    subscriptions: () => client.get<SubscriptionList>('/api/subscriptions'),
    eventRate: (windowSeconds: number, bucketSeconds: number) =>
      client.get<EventRate>(
        `/api/stats/event-rate${q({ window: windowSeconds, bucket: bucketSeconds })}`,
      ),
    workflows: (workflow?: string) =>
      client.get<WorkflowInstanceList>(`/api/workflows${q({ workflow })}`),
    workflowInstance: (workflow: string, instanceId: string) =>
      client.get<WorkflowInstance>(`/api/workflows/${seg(workflow)}/${seg(instanceId)}`),

    /** Development only: the 404 of a production server means there is no mailbox. */
    devEmails: () => client.get<{ emails: DevEmail[] }>('/api/dev/emails'),
  };
}

export type EventloomApi = ReturnType<typeof createEventloomApi>;
export type { ApiResponse };
