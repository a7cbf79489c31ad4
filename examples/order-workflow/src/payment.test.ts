import { describe, it } from 'node:test';
import { WorkflowSpecification } from 'eventloom/testing';
import { PAYMENT_TIMEOUT_MS, payment } from './payment.js';

const spec = WorkflowSpecification.for(payment, { start: '2030-01-01T12:00:00Z' });
const placed = { type: 'OrderPlaced' as const, data: { orderId: 'o-1', total: 25 } };

describe('payment workflow', () => {
  it('starts a payment timer when an order is placed', () =>
    spec.when(placed).thenTimers([
      {
        timerId: 'payment-timeout',
        dueAt: '2030-01-01T12:15:00.000Z',
        message: { type: 'PaymentTimedOut', data: { orderId: 'o-1' } },
      },
    ]));

  it('cancels an order that is not paid in time', () =>
    spec
      .given([placed])
      .whenTimeAdvances(PAYMENT_TIMEOUT_MS)
      .then([
        {
          kind: 'command',
          type: 'CancelOrder',
          data: { orderId: 'o-1', reason: 'payment-timeout' },
        },
      ]));

  it('stops the timer once the order is paid', () =>
    spec
      .given([placed, { type: 'OrderPaid', data: { orderId: 'o-1' } }])
      .whenTimeAdvances(PAYMENT_TIMEOUT_MS)
      .thenNothingHappened());

  it('waits while the timeout is not due', () =>
    spec
      .given([placed])
      .whenTimeAdvances(PAYMENT_TIMEOUT_MS - 1)
      .thenState({ status: 'awaiting-payment' }));
});
