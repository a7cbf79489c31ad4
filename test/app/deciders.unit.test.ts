import { describe, expect, it } from 'vitest';
import {
  orderDecider,
  orderTimeline,
  productDecider,
  uniqueValueDecider,
  userDecider,
} from '../../src/app/index.js';
import { DeciderSpecification } from '../../src/core/testing/index.js';

const registered = {
  type: 'UserRegistered' as const,
  data: {
    userId: 'u1',
    username: 'ada',
    email: 'ada@example.com',
    name: 'Ada',
    credentialId: 'c1',
  },
};

describe('user decider', () => {
  const spec = DeciderSpecification.for(userDecider);

  it('registers a new user once', async () => {
    await spec.when({ type: 'RegisterUser', ...registered.data }).then(registered);
    await spec
      .given(registered)
      .when({ type: 'RegisterUser', ...registered.data })
      .thenThrows('COMMAND_REJECTED');
  });

  it('records only what changed, and a password change as a new credential id', async () => {
    await spec
      .given(registered)
      .when({ type: 'UpdateAccount', name: 'Ada', email: 'new@example.com', credentialId: 'c2' })
      .then([
        { type: 'UserProfileUpdated', data: { email: 'new@example.com' } },
        { type: 'PasswordChanged', data: { credentialId: 'c2' } },
      ]);
    await spec.given(registered).when({ type: 'UpdateAccount', name: 'Ada' }).thenNothingHappened();
  });

  it('refuses any change to a deleted user', async () => {
    await spec
      .given([registered, { type: 'UserDeleted', data: { userId: 'u1' } }])
      .when({ type: 'UpdateAccount', name: 'Zombie' })
      .thenThrows((e) => (e as { details?: { reason?: string } }).details?.reason === 'not_found');
  });
});

describe('unique value decider', () => {
  const spec = DeciderSpecification.for(uniqueValueDecider);
  const claim = (ownerId: string, replacing?: string) => ({
    type: 'Claim' as const,
    ownerId,
    takenReason: 'username_taken' as const,
    field: 'username',
    ...(replacing !== undefined ? { replacing } : {}),
  });
  const claimed = (ownerId: string) => ({ type: 'UniqueValueClaimed' as const, data: { ownerId } });

  it('claims a free value, and again after its release', async () => {
    await spec.when(claim('a')).then(claimed('a'));
    await spec
      .given([claimed('a'), { type: 'UniqueValueReleased', data: { ownerId: 'a' } }])
      .when(claim('b'))
      .then(claimed('b'));
  });

  it('refuses a value another owner holds, unless taking over that very claim', async () => {
    await spec.given(claimed('a')).when(claim('b')).thenThrows('COMMAND_REJECTED');
    await spec.given(claimed('a')).when(claim('a')).thenNothingHappened();
    await spec
      .given(claimed('a'))
      .when(claim('b', 'a'))
      .then({ type: 'UniqueValueClaimed', data: { ownerId: 'b', replaced: 'a' } });
    await spec.given(claimed('c')).when(claim('b', 'a')).thenThrows('COMMAND_REJECTED');
  });

  it('ignores a release by someone who does not hold the value', async () => {
    await spec.given(claimed('a')).when({ type: 'Release', ownerId: 'b' }).thenNothingHappened();
  });
});

describe('shop deciders', () => {
  const product = DeciderSpecification.for(productDecider);
  const order = DeciderSpecification.for(orderDecider);
  const addedBy = { userId: 'u1', username: 'ada', role: 'user' as const };
  const placed = {
    type: 'OrderPlaced' as const,
    data: {
      orderId: 'o1',
      userId: 'u1',
      username: 'ada',
      items: [
        { productId: 'p1', name: 'Mug', quantity: 2, unitPriceCents: 1500 },
        { productId: 'p2', name: 'Book', quantity: 1, unitPriceCents: 2500 },
      ],
      totalCents: 5500,
    },
  };

  const reserved = { type: 'OrderReserved' as const, data: { orderId: 'o1' } };
  const paid = {
    type: 'PaymentProcessed' as const,
    data: { paymentId: 'pay1', orderId: 'o1', amountCents: 5500, method: 'card' as const },
  };
  const reasonIs = (reason: string) => (e: unknown) =>
    (e as { details?: { reason?: string } }).details?.reason === reason;
  const pay = {
    type: 'ProcessPayment' as const,
    paymentId: 'pay2',
    amountCents: 5500,
    method: 'card' as const,
  };

  it('adds a product once, recording who added it', async () => {
    const add = {
      type: 'AddProduct' as const,
      productId: 'p1',
      name: 'Mug',
      description: '',
      priceCents: 1500,
      addedBy,
    };
    await product.when(add).then({
      type: 'ProductAdded',
      data: { productId: 'p1', name: 'Mug', description: '', priceCents: 1500, addedBy },
    });
  });

  it('places an order with its total computed from the lines', async () => {
    await order
      .when({
        type: 'PlaceOrder',
        orderId: 'o1',
        userId: 'u1',
        username: 'ada',
        items: placed.data.items,
      })
      .then(placed);
  });

  it('takes one payment of exactly the total', async () => {
    const pay = (amountCents: number) => ({
      type: 'ProcessPayment' as const,
      paymentId: 'pay1',
      amountCents,
      method: 'card' as const,
    });
    await order
      .given([placed, reserved])
      .when(pay(5500))
      .then({
        type: 'PaymentProcessed',
        data: { paymentId: 'pay1', orderId: 'o1', amountCents: 5500, method: 'card' },
      });
    await order.given([placed, reserved]).when(pay(5000)).thenThrows('COMMAND_REJECTED');
    await order
      .given([
        placed,
        reserved,
        {
          type: 'PaymentProcessed',
          data: { paymentId: 'pay1', orderId: 'o1', amountCents: 5500, method: 'card' },
        },
      ])
      .when(pay(5500))
      .thenThrows(
        (e) => (e as { details?: { reason?: string } }).details?.reason === 'already_paid',
      );
    await order.when(pay(1)).thenThrows('COMMAND_REJECTED');
  });

  it('records a product’s stock and holds it per order, once, never beyond what is left', async () => {
    const added = {
      type: 'ProductAdded' as const,
      data: { productId: 'p1', name: 'Lamp', description: '', priceCents: 900, addedBy, stock: 3 },
    };
    const reserve = (orderId: string, quantity: number) => ({
      type: 'ReserveStock' as const,
      orderId,
      quantity,
    });
    const held = {
      type: 'StockReserved' as const,
      data: { productId: 'p1', orderId: 'o1', quantity: 2, remaining: 1 },
    };
    await product.given(added).when(reserve('o1', 2)).then(held);
    await product.given([added, held]).when(reserve('o1', 2)).thenNothingHappened();
    await product.given([added, held]).when(reserve('o2', 2)).thenThrows(reasonIs('out_of_stock'));
    const released = {
      type: 'StockReleased' as const,
      data: { productId: 'p1', orderId: 'o1', quantity: 2, remaining: 3 },
    };
    await product.given([added, held]).when({ type: 'ReleaseStock', orderId: 'o1' }).then(released);
    await product
      .given([added, held, released])
      .when(reserve('o1', 2))
      .thenThrows(reasonIs('reservation_closed'));
    await product.when(reserve('o1', 1)).thenThrows(reasonIs('unknown_product'));
    const unlimited = { ...added, data: { ...added.data, stock: null } };
    await product.given(unlimited).when(reserve('o1', 1000)).thenNothingHappened();
    await product
      .given(unlimited)
      .when({ type: 'ReleaseStock', orderId: 'o1' })
      .thenNothingHappened();
  });

  it('moves an order through reserved, paid, shipment requested and shipped; a repeated step is a no-op', async () => {
    await order.given(placed).when({ type: 'MarkReserved' }).then(reserved);
    await order.given([placed, reserved]).when({ type: 'MarkReserved' }).thenNothingHappened();
    const requested = { type: 'ShipmentRequested' as const, data: { orderId: 'o1' } };
    await order.given([placed, reserved, paid]).when({ type: 'RequestShipment' }).then(requested);
    await order
      .given([placed, reserved, paid, requested])
      .when({ type: 'RequestShipment' })
      .thenNothingHappened();
    const shipped = { type: 'OrderShipped' as const, data: { orderId: 'o1', shipmentId: 's1' } };
    await order
      .given([placed, reserved, paid, requested])
      .when({ type: 'MarkShipped', shipmentId: 's1' })
      .then(shipped);
    await order
      .given([placed, reserved, paid, requested, shipped])
      .when({ type: 'MarkShipped', shipmentId: 's1' })
      .thenNothingHappened();
    await order
      .given([placed, reserved])
      .when({ type: 'MarkShipped', shipmentId: 's1' })
      .thenThrows(reasonIs('invalid_transition'));
  });

  it('pays only a reserved order: not before, not once rejected, not once cancelled', async () => {
    await order.given(placed).when(pay).thenThrows(reasonIs('not_reserved'));
    const rejectedOrder = {
      type: 'OrderRejected' as const,
      data: { orderId: 'o1', reason: 'out_of_stock' },
    };
    await order
      .given(placed)
      .when({ type: 'RejectOrder', reason: 'out_of_stock' })
      .then(rejectedOrder);
    await order.given([placed, rejectedOrder]).when(pay).thenThrows(reasonIs('not_reserved'));
    const cancelled = {
      type: 'OrderCancelled' as const,
      data: { orderId: 'o1', reason: 'payment_timeout' },
    };
    await order
      .given([placed, reserved])
      .when({ type: 'CancelOrder', reason: 'payment_timeout' })
      .then(cancelled);
    await order
      .given([placed, reserved, cancelled])
      .when(pay)
      .thenThrows(reasonIs('order_cancelled'));
  });

  it('cancels only an unpaid order, and rejects only one still placed', async () => {
    await order
      .given([placed, reserved, paid])
      .when({ type: 'CancelOrder', reason: 'payment_timeout' })
      .thenThrows(reasonIs('invalid_transition'));
    await order
      .given([placed, reserved])
      .when({ type: 'RejectOrder', reason: 'out_of_stock' })
      .thenThrows(reasonIs('invalid_transition'));
    await order.when({ type: 'MarkReserved' }).thenThrows(reasonIs('not_found'));
  });

  it('shows an order’s status changes as a timeline of the events that made them', () => {
    const at = new Date('2026-01-01T00:00:00.000Z');
    const recorded = [placed, reserved, paid, { type: 'ShipmentRequested', data: {} }].map(
      (e, i) => ({
        ...e,
        id: `e${i}`,
        streamId: 'order-o1',
        metadata: {},
        version: i + 1,
        position: i + 1,
        recordedAt: at,
      }),
    );
    expect(orderTimeline(recorded)).toEqual([
      { status: 'placed', at: at.toISOString(), eventId: 'e0' },
      { status: 'reserved', at: at.toISOString(), eventId: 'e1' },
      { status: 'paid', at: at.toISOString(), eventId: 'e2' },
    ]);
  });
});
