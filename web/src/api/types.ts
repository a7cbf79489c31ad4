// The JSON shapes of Eventloom's HTTP API (see /api/openapi.json). App resources keep the
// source material's snake_case; the store API shows events as the library types them.

export type Role = 'user' | 'admin';
export type PaymentMethod = 'card' | 'bank_transfer' | 'wallet';
export const PAYMENT_METHODS: readonly PaymentMethod[] = ['card', 'bank_transfer', 'wallet'];

/** One invalid input of a problem: `field` is the body path for people (`items[0].quantity`). */
export interface FieldError {
  pointer: string;
  field: string;
  message: string;
}

/** RFC 9457 problem details, as every 4xx/5xx of the API answers. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  request_id?: string;
  reason?: string;
  errors?: FieldError[];
}

export interface SessionUser {
  id: string;
  username: string;
  role: Role;
}

export interface SessionInfo {
  authenticated: boolean;
  via?: 'session' | 'basic';
  user?: SessionUser;
  csrf_token?: string;
  expires_at?: string;
}

export interface User {
  id: string;
  username: string;
  name: string;
  email?: string;
  created_at: string;
  updated_at: string;
  version: number;
}

export interface Tweet {
  id: string;
  body: string;
  tweetedby: string;
  user_id: string;
  timestamp: string;
}

export interface Product {
  id: string;
  name: string;
  description: string;
  price_cents: number;
  /** Units left to order; null means unlimited. */
  stock: number | null;
  added_by: { user_id: string; username: string; role: Role };
  created_at: string;
  version: number;
}

export interface OrderLine {
  product_id: string;
  name: string;
  quantity: number;
  unit_price_cents: number;
  line_total_cents: number;
}

export interface Order {
  id: string;
  user_id: string;
  username: string;
  items: OrderLine[];
  total_cents: number;
  status: OrderStatus;
  payment: {
    id: string;
    amount_cents: number;
    method: PaymentMethod;
    processed_at: string;
  } | null;
  timeline: { status: OrderStatus; at: string; event_id: string }[];
  placed_at: string;
  updated_at: string;
  version: number;
}

export type OrderStatus = 'placed' | 'reserved' | 'rejected' | 'paid' | 'shipped' | 'cancelled';

export interface Payment {
  id: string;
  order_id: string;
  amount_cents: number;
  method: PaymentMethod;
  processed_at: string;
}

/** A recorded event. `position` is its place in the global log, `version` in its stream. */
export interface StoredEvent {
  id: string;
  streamId: string;
  type: string;
  data: unknown;
  metadata: Record<string, unknown>;
  version: number;
  position: number;
  recordedAt: string;
}

export interface EventPage {
  events: StoredEvent[];
  nextFrom: number;
  head: number;
}

export interface StreamPage {
  streamId: string;
  version: number;
  exists: boolean;
  deleted: boolean;
  events: StoredEvent[];
}

export interface AggregateState {
  streamId: string;
  aggregate: string;
  version: number;
  currentVersion: number;
  state: unknown;
}

export type SubscriptionKind = 'projection' | 'publisher' | 'subscription';
export type SubscriptionState = 'starting' | 'catching-up' | 'live' | 'stopped' | 'failed';

export interface SubscriptionStatus {
  name: string;
  kind: SubscriptionKind;
  state: SubscriptionState;
  position: number;
  head: number;
  lag: number;
  processed: number;
  parked: number;
  error?: string;
}

export interface SubscriptionList {
  head: number;
  subscriptions: SubscriptionStatus[];
}

export interface EventRate {
  from: string;
  bucketSeconds: number;
  buckets: { at: string; count: number }[];
  total: number;
  perSecond: number;
}
