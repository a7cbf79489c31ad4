import { describe, it } from 'vitest';
import { WorkflowSpecification } from '../../../src/core/testing/index.js';
import { inventoryWorkflow } from '../../../src/app/services/inventoryService.js';
import {
  CARRIER_TIMER,
  shipmentIdOf,
  shippingWorkflow,
} from '../../../src/app/services/shippingWorkflow.js';

const placed = {
  type: 'OrderPlaced',
  data: {
    orderId: 'o1',
    userId: 'u1',
    username: 'ada',
    totalCents: 500,
    items: [
      { productId: 'p2', name: 'Mug', quantity: 2, unitPriceCents: 100 },
      { productId: 'p1', name: 'Tea', quantity: 3, unitPriceCents: 100 },
    ],
  },
} as const;
const cancelled = {
  type: 'OrderCancelled',
  data: { orderId: 'o1', reason: 'payment_timeout' },
} as const;

describe('the inventory workflow', () => {
  const spec = WorkflowSpecification.for(inventoryWorkflow);

  it('reserves the lines of a placed order', () =>
    spec.when(placed).then([
      {
        kind: 'command',
        type: 'ReserveStock',
        data: {
          orderId: 'o1',
          lines: [
            { productId: 'p2', quantity: 2 },
            { productId: 'p1', quantity: 3 },
          ],
        },
      },
    ]));

  it('releases the stock of a cancelled order', () =>
    spec
      .given([placed])
      .when(cancelled)
      .then([{ kind: 'command', type: 'ReleaseStock', data: { orderId: 'o1' } }]));

  it('reserves once for a redelivered order', () =>
    spec
      .given([{ ...placed, id: 'e1' }])
      .when({ ...placed, id: 'e1' })
      .thenNothingHappened());

  it('releases once for a repeated cancellation', () =>
    spec.given([placed, cancelled]).when(cancelled).thenNothingHappened());
});

describe('the shipping workflow', () => {
  const spec = WorkflowSpecification.for(shippingWorkflow({ shippingDelayMs: 2000 }), {
    start: '2030-01-01T00:00:00Z',
  });
  const requested = { type: 'ShipmentRequested', data: { orderId: 'o1' } } as const;
  const dispatched = { type: 'CarrierDispatched', data: { orderId: 'o1' } } as const;

  it('waits for the carrier on a durable timer', () =>
    spec
      .when(requested)
      .thenTimers([
        { timerId: CARRIER_TIMER, dueAt: '2030-01-01T00:00:02Z', message: dispatched },
      ]));

  it('marks the order shipped with a deterministic shipment id once the carrier is due', () =>
    spec
      .given([requested])
      .whenTimeAdvances(2000)
      .then([
        {
          kind: 'command',
          type: 'MarkShipped',
          data: { orderId: 'o1', shipmentId: shipmentIdOf('o1') },
        },
      ]));

  it('ships nothing before the carrier delay', () =>
    spec.given([requested]).whenTimeAdvances(1999).thenNothingHappened());

  it('ships once for a redelivered request', () =>
    spec
      .given([{ ...requested, id: 'e1' }, { advanceMs: 2000 }])
      .when({ ...requested, id: 'e1' })
      .thenNothingHappened());

  it('ships once for a second request under another id', () =>
    spec
      .given([{ ...requested, id: 'e1' }, { advanceMs: 2000 }])
      .when({ ...requested, id: 'e2' })
      .thenNothingHappened());
});
