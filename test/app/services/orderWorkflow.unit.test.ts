import { describe, it } from 'vitest';
import { WorkflowSpecification } from '../../../src/core/testing/index.js';
import { orderWorkflow, PAYMENT_TIMER } from '../../../src/app/services/orderWorkflow.js';

const TIMEOUT = 60_000;
const spec = WorkflowSpecification.for(orderWorkflow({ orderPaymentTimeoutMs: TIMEOUT }), {
  start: '2030-01-01T00:00:00Z',
});
const confirmed = { type: 'ReservationConfirmed', data: { orderId: 'o1' } } as const;
const rejected = {
  type: 'ReservationRejected',
  data: { orderId: 'o1', reason: 'out_of_stock', productId: 'p1', requested: 3 },
} as const;
const paid = {
  type: 'PaymentProcessed',
  data: { orderId: 'o1', paymentId: 'pay1', amountCents: 100, method: 'card' },
} as const;
const timedOut = { type: 'PaymentTimedOut', data: { orderId: 'o1' } } as const;

describe('the order workflow', () => {
  it('marks the order reserved and starts the payment timer when its stock is held', () =>
    spec.when(confirmed).then([
      { kind: 'command', type: 'MarkReserved', data: { orderId: 'o1' } },
      { kind: 'schedule', timerId: PAYMENT_TIMER, afterMs: TIMEOUT, message: timedOut },
    ]));

  it('rejects the order with the reservation refusal as reason', () =>
    spec
      .when(rejected)
      .then([
        { kind: 'command', type: 'RejectOrder', data: { orderId: 'o1', reason: 'out_of_stock' } },
      ]));

  it('keeps only the order id and the reason in its state, not the payment', () =>
    spec.given([confirmed]).when(paid).thenState({ status: 'paid' }));

  it('stops the payment timer and asks for shipment when the order is paid', () =>
    spec
      .given([confirmed])
      .when(paid)
      .then([
        { kind: 'cancel', timerId: PAYMENT_TIMER },
        { kind: 'command', type: 'RequestShipment', data: { orderId: 'o1' } },
      ]));

  it('cancels an order not paid in time', () =>
    spec
      .given([confirmed])
      .whenTimeAdvances(TIMEOUT)
      .then([
        {
          kind: 'command',
          type: 'CancelOrder',
          data: { orderId: 'o1', reason: 'payment_timeout' },
        },
      ]));

  it('does not cancel before the timeout', () =>
    spec
      .given([confirmed])
      .whenTimeAdvances(TIMEOUT - 1)
      .thenNothingHappened());

  it('never cancels an order paid in time', () =>
    spec
      .given([confirmed, paid])
      .whenTimeAdvances(TIMEOUT * 10)
      .thenNothingHappened());

  it('records the order as cancelled when the payment timer fires', () =>
    spec.given([confirmed]).whenTimeAdvances(TIMEOUT).thenState({ status: 'cancelled' }));

  // The order refuses a payment after its cancellation, so a payment seen after the timer
  // fired is one the order took first (the cancellation was refused): it ships.
  it('asks for shipment when a payment that raced the timeout reaches it after the timer', () =>
    spec
      .given([confirmed, { advanceMs: TIMEOUT }])
      .when(paid)
      .then([
        { kind: 'cancel', timerId: PAYMENT_TIMER },
        { kind: 'command', type: 'RequestShipment', data: { orderId: 'o1' } },
      ]));

  it('acts once on a redelivered reservation outcome', () =>
    spec
      .given([{ ...confirmed, id: 'e1' }])
      .when({ ...confirmed, id: 'e1' })
      .thenNothingHappened());

  it('ignores a second confirmation of the same order under another id', () =>
    spec
      .given([{ ...confirmed, id: 'e1' }])
      .when({ ...confirmed, id: 'e2' })
      .thenNothingHappened());

  it('leaves the rejected order alone when a confirmation follows', () =>
    spec.given([rejected]).when(confirmed).thenNothingHappened());
});
