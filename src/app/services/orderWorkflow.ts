import { defineWorkflow } from '../../core/index.js';
import type { AppServicesConfig } from './appService.js';

/** The payment timer's id in each order's instance. */
export const PAYMENT_TIMER = 'payment-timeout';
/** Why an order the workflow cancels for want of payment was cancelled. */
export const PAYMENT_TIMEOUT_REASON = 'payment_timeout';

/** What the order workflow reads: the reservation's outcome and the payment (and its own timer). */
export type OrderWorkflowInput =
  | { type: 'ReservationConfirmed'; data: { orderId: string } }
  | { type: 'ReservationRejected'; data: { orderId: string; reason: string } }
  | { type: 'PaymentProcessed'; data: { orderId: string } }
  | { type: 'PaymentTimedOut'; data: { orderId: string } };

/** Its commands, on the order (`Shop.orders`). */
export type OrderWorkflowCommand =
  | { type: 'MarkReserved'; data: { orderId: string } }
  | { type: 'RejectOrder'; data: { orderId: string; reason: string } }
  | { type: 'RequestShipment'; data: { orderId: string } }
  | { type: 'CancelOrder'; data: { orderId: string; reason: string } };

export interface OrderWorkflowState {
  status: 'placed' | 'reserved' | 'rejected' | 'paid' | 'cancelled';
}

const STATUS_AFTER: Record<OrderWorkflowInput['type'], OrderWorkflowState['status']> = {
  ReservationConfirmed: 'reserved',
  ReservationRejected: 'rejected',
  PaymentProcessed: 'paid',
  PaymentTimedOut: 'cancelled',
};

/**
 * One instance per order: the reservation's outcome marks the order reserved (starting the
 * payment timer) or rejected; the payment stops the timer and asks for shipment; the timer
 * firing first cancels the order (the inventory service then releases its stock on
 * `OrderCancelled`). A payment after that is refused by the order itself (`order_cancelled`).
 */
export function orderWorkflow(config: Pick<AppServicesConfig, 'orderPaymentTimeoutMs'>) {
  return defineWorkflow<OrderWorkflowState, OrderWorkflowInput, OrderWorkflowCommand>({
    name: 'orders',
    inputs: ['ReservationConfirmed', 'ReservationRejected', 'PaymentProcessed'],
    instanceOf: (input) => input.data.orderId,
    initialState: () => ({ status: 'placed' }),
    // Only the order id (and a rejection's reason) is kept: payments carry nothing the state needs.
    recordedData: (input) =>
      input.type === 'ReservationRejected'
        ? { orderId: input.data.orderId, reason: input.data.reason }
        : { orderId: input.data.orderId },
    evolve(state, input) {
      // A late timer (the order was paid meanwhile) changes nothing.
      if (input.type === 'PaymentTimedOut' && state.status !== 'reserved') return state;
      return { status: STATUS_AFTER[input.type] };
    },
    decide(input, state) {
      const { orderId } = input.data;
      switch (input.type) {
        case 'ReservationConfirmed':
          if (state.status !== 'placed') return [];
          return [
            { kind: 'command', type: 'MarkReserved', data: { orderId } },
            {
              kind: 'schedule',
              timerId: PAYMENT_TIMER,
              afterMs: config.orderPaymentTimeoutMs,
              message: { type: 'PaymentTimedOut', data: { orderId } },
            },
          ];
        case 'ReservationRejected':
          if (state.status !== 'placed') return [];
          return [
            { kind: 'command', type: 'RejectOrder', data: { orderId, reason: input.data.reason } },
          ];
        case 'PaymentProcessed':
          if (state.status === 'paid') return [];
          return [
            { kind: 'cancel', timerId: PAYMENT_TIMER },
            { kind: 'command', type: 'RequestShipment', data: { orderId } },
          ];
        case 'PaymentTimedOut':
          if (state.status !== 'reserved') return [];
          return [
            {
              kind: 'command',
              type: 'CancelOrder',
              data: { orderId, reason: PAYMENT_TIMEOUT_REASON },
            },
          ];
      }
    },
  });
}
