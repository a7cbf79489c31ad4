import { defineWorkflow } from 'eventloom';
import type { OrderEvent } from './order.js';

/** What the workflow reacts to: order events, and the message its own timer sends back. */
export type PaymentInput =
  | Extract<OrderEvent, { type: 'OrderPlaced' | 'OrderPaid' }>
  | { type: 'PaymentTimedOut'; data: { orderId: string } };

export type PaymentCommand = { type: 'CancelOrder'; data: { orderId: string; reason: string } };

export interface PaymentState {
  status: 'new' | 'awaiting-payment' | 'paid' | 'timed-out';
}

export const PAYMENT_TIMEOUT_MS = 15 * 60_000;

/** Cancels an order that is not paid within PAYMENT_TIMEOUT_MS of being placed. */
export const payment = defineWorkflow<PaymentState, PaymentInput, PaymentCommand>({
  name: 'payment',
  inputs: ['OrderPlaced', 'OrderPaid'],
  instanceOf: (input) => input.data.orderId,
  initialState: () => ({ status: 'new' }),
  evolve(state, input) {
    switch (input.type) {
      case 'OrderPlaced':
        return { status: 'awaiting-payment' };
      case 'OrderPaid':
        return { status: 'paid' };
      case 'PaymentTimedOut':
        return state.status === 'paid' ? state : { status: 'timed-out' };
    }
  },
  decide(input, state) {
    switch (input.type) {
      case 'OrderPlaced':
        return [
          {
            kind: 'schedule',
            timerId: 'payment-timeout',
            afterMs: PAYMENT_TIMEOUT_MS,
            message: { type: 'PaymentTimedOut', data: { orderId: input.data.orderId } },
          },
        ];
      case 'OrderPaid':
        return [{ kind: 'cancel', timerId: 'payment-timeout' }];
      case 'PaymentTimedOut':
        if (state.status === 'paid') return [];
        return [
          {
            kind: 'command',
            type: 'CancelOrder',
            data: { orderId: input.data.orderId, reason: 'payment-timeout' },
          },
        ];
    }
  },
});
