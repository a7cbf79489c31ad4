import type { Decider } from '../core/index.js';
import type { PaymentMethod } from './paymentMethods.js';
import { rejected } from './rejection.js';

export interface OrderLine {
  productId: string;
  name: string;
  quantity: number;
  unitPriceCents: number;
}

export { PAYMENT_METHODS, type PaymentMethod } from './paymentMethods.js';

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
  | {
      type: 'PaymentProcessed';
      data: { paymentId: string; orderId: string; amountCents: number; method: PaymentMethod };
    };

export type OrderCommand =
  | { type: 'PlaceOrder'; orderId: string; userId: string; username: string; items: OrderLine[] }
  | { type: 'ProcessPayment'; paymentId: string; amountCents: number; method: PaymentMethod };

export interface OrderState {
  status: 'none' | 'placed' | 'paid';
  orderId: string;
  userId: string;
  username: string;
  items: OrderLine[];
  totalCents: number;
  payment: { paymentId: string; amountCents: number; method: PaymentMethod } | null;
}

/** Place an order (prices fixed at that moment), then pay exactly its total, once. */
export const orderDecider: Decider<OrderState, OrderCommand, OrderEvent> = {
  initialState: () => ({
    status: 'none',
    orderId: '',
    userId: '',
    username: '',
    items: [],
    totalCents: 0,
    payment: null,
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
    if (state.status === 'paid') {
      throw rejected('already_paid', `Order ${state.orderId} is already paid`);
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
  },
  evolve(state, event) {
    switch (event.type) {
      case 'OrderPlaced':
        return { ...state, status: 'placed', ...event.data };
      case 'PaymentProcessed': {
        const { paymentId, amountCents, method } = event.data;
        return { ...state, status: 'paid', payment: { paymentId, amountCents, method } };
      }
    }
  },
};
