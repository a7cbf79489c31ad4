import type { Decider, RecordedEvent } from '../core/index.js';
import type { OrderStatus } from './orderStatuses.js';
import type { PaymentMethod } from './paymentMethods.js';
import { rejected } from './rejection.js';

export interface OrderLine {
  productId: string;
  name: string;
  quantity: number;
  unitPriceCents: number;
}

export { PAYMENT_METHODS, type PaymentMethod } from './paymentMethods.js';

export { ORDER_STATUSES, type OrderStatus } from './orderStatuses.js';

export type OrderEvent =
  | {
      type: 'OrderPlaced';
      data: {
        orderId: string;
        userId: string;
        username: string;
        items: OrderLine[];
        totalCents: number;
      };
    }
  | { type: 'OrderReserved'; data: { orderId: string } }
  | { type: 'OrderRejected'; data: { orderId: string; reason: string } }
  | {
      type: 'PaymentProcessed';
      data: { paymentId: string; orderId: string; amountCents: number; method: PaymentMethod };
    }
  | { type: 'ShipmentRequested'; data: { orderId: string } }
  | { type: 'OrderShipped'; data: { orderId: string; shipmentId: string } }
  | { type: 'OrderCancelled'; data: { orderId: string; reason: string } };

/**
 * What can be done to an order. `PlaceOrder` and `ProcessPayment` come from its customer;
 * the others from the shop's services (the order workflow, shipping), and each of those is
 * a no-op when the order is already where it would put it, so a redelivered command is
 * harmless.
 */
export type OrderCommand =
  | { type: 'PlaceOrder'; orderId: string; userId: string; username: string; items: OrderLine[] }
  /** Stock is held for every line (see `Inventory.reserveStock`). Only from `placed`. */
  | { type: 'MarkReserved' }
  /** Stock could not be held; `reason` is shown to the customer. Only from `placed`. */
  | { type: 'RejectOrder'; reason: string }
  /** Only when `reserved`: exactly the total, once. After cancellation: `order_cancelled`. */
  | { type: 'ProcessPayment'; paymentId: string; amountCents: number; method: PaymentMethod }
  /** Asks shipping to send a paid order; the status stays `paid`. */
  | { type: 'RequestShipment' }
  | { type: 'MarkShipped'; shipmentId: string }
  /** From `placed` or `reserved` (e.g. unpaid in time). Releasing stock is the caller's job. */
  | { type: 'CancelOrder'; reason: string };

export interface OrderState {
  status: 'none' | OrderStatus;
  orderId: string;
  userId: string;
  username: string;
  items: OrderLine[];
  totalCents: number;
  payment: { paymentId: string; amountCents: number; method: PaymentMethod } | null;
  shipmentRequested: boolean;
  shipmentId: string | null;
  /** Why it was rejected or cancelled. */
  reason: string | null;
}

/** The status each event puts an order in; events absent here leave it where it is. */
const STATUS_AFTER: Partial<Record<OrderEvent['type'], OrderStatus>> = {
  OrderPlaced: 'placed',
  OrderReserved: 'reserved',
  OrderRejected: 'rejected',
  PaymentProcessed: 'paid',
  OrderShipped: 'shipped',
  OrderCancelled: 'cancelled',
};

/** One step of an order's history, as the API shows it. */
export interface OrderTimelineEntry {
  status: OrderStatus;
  /** ISO time of the event. */
  at: string;
  eventId: string;
}

/** The order's status changes, oldest first, from its stream's recorded events. */
export function orderTimeline(events: readonly RecordedEvent[]): OrderTimelineEntry[] {
  const timeline: OrderTimelineEntry[] = [];
  for (const event of events) {
    const status = STATUS_AFTER[event.type as OrderEvent['type']];
    if (status === undefined) continue;
    timeline.push({ status, at: event.recordedAt.toISOString(), eventId: event.id });
  }
  return timeline;
}

function cannot(state: OrderState, what: string) {
  return rejected(
    'invalid_transition',
    `Order ${state.orderId} is ${state.status}; it cannot be ${what}`,
  );
}

function decidePayment(
  command: Extract<OrderCommand, { type: 'ProcessPayment' }>,
  state: OrderState,
): OrderEvent {
  switch (state.status) {
    case 'paid':
    case 'shipped':
      throw rejected('already_paid', `Order ${state.orderId} is already paid`);
    case 'cancelled':
      throw rejected(
        'order_cancelled',
        `Order ${state.orderId} was cancelled (${state.reason ?? 'no reason given'}); it can no longer be paid`,
      );
    case 'placed':
      throw rejected(
        'not_reserved',
        `Order ${state.orderId}'s stock is not reserved yet; pay once its status is reserved`,
      );
    case 'rejected':
      throw rejected(
        'not_reserved',
        `Order ${state.orderId} was rejected (${state.reason ?? 'no reason given'}); it cannot be paid`,
      );
    default:
      break;
  }
  if (command.amountCents !== state.totalCents) {
    throw rejected(
      'amount_mismatch',
      `The order's total is ${state.totalCents} cents; a payment of ${command.amountCents} cents does not match it`,
      'amount_cents',
    );
  }
  return {
    type: 'PaymentProcessed',
    data: {
      paymentId: command.paymentId,
      orderId: state.orderId,
      amountCents: command.amountCents,
      method: command.method,
    },
  };
}

/**
 * An order's life: placed → reserved (or rejected) → paid → shipped, or cancelled while
 * unpaid. Prices are fixed when it is placed; it is paid exactly its total, once.
 */
export const orderDecider: Decider<OrderState, OrderCommand, OrderEvent> = {
  initialState: () => ({
    status: 'none',
    orderId: '',
    userId: '',
    username: '',
    items: [],
    totalCents: 0,
    payment: null,
    shipmentRequested: false,
    shipmentId: null,
    reason: null,
  }),
  decide(command, state) {
    if (command.type === 'PlaceOrder') {
      if (state.status !== 'none') {
        throw rejected('already_exists', `Order ${command.orderId} already exists`);
      }
      const { orderId, userId, username, items } = command;
      const totalCents = items.reduce((sum, l) => sum + l.quantity * l.unitPriceCents, 0);
      return { type: 'OrderPlaced', data: { orderId, userId, username, items, totalCents } };
    }
    if (state.status === 'none') throw rejected('not_found', 'The order does not exist');
    const { orderId } = state;
    switch (command.type) {
      case 'ProcessPayment':
        return decidePayment(command, state);
      case 'MarkReserved':
        if (state.status === 'reserved') return [];
        if (state.status !== 'placed') throw cannot(state, 'reserved');
        return { type: 'OrderReserved', data: { orderId } };
      case 'RejectOrder':
        if (state.status === 'rejected') return [];
        if (state.status !== 'placed') throw cannot(state, 'rejected');
        return { type: 'OrderRejected', data: { orderId, reason: command.reason } };
      case 'RequestShipment':
        if (state.status === 'shipped' || state.shipmentRequested) return [];
        if (state.status !== 'paid') throw cannot(state, 'shipped before it is paid');
        return { type: 'ShipmentRequested', data: { orderId } };
      case 'MarkShipped':
        if (state.status === 'shipped') return [];
        if (state.status !== 'paid') throw cannot(state, 'shipped before it is paid');
        return { type: 'OrderShipped', data: { orderId, shipmentId: command.shipmentId } };
      case 'CancelOrder':
        if (state.status === 'cancelled') return [];
        if (state.status !== 'placed' && state.status !== 'reserved') {
          throw cannot(state, 'cancelled');
        }
        return { type: 'OrderCancelled', data: { orderId, reason: command.reason } };
    }
  },
  evolve(state, event) {
    const status = STATUS_AFTER[event.type] ?? state.status;
    switch (event.type) {
      case 'OrderPlaced':
        return { ...state, status, ...event.data };
      case 'PaymentProcessed': {
        const { paymentId, amountCents, method } = event.data;
        return { ...state, status, payment: { paymentId, amountCents, method } };
      }
      case 'OrderRejected':
      case 'OrderCancelled':
        return { ...state, status, reason: event.data.reason };
      case 'ShipmentRequested':
        return { ...state, shipmentRequested: true };
      case 'OrderShipped':
        return { ...state, status, shipmentId: event.data.shipmentId };
      case 'OrderReserved':
        return { ...state, status };
    }
  },
};
