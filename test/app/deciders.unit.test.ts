import { describe, it } from 'vitest';
import {
  orderDecider,
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
      .given(placed)
      .when(pay(5500))
      .then({
        type: 'PaymentProcessed',
        data: { paymentId: 'pay1', orderId: 'o1', amountCents: 5500, method: 'card' },
      });
    await order.given(placed).when(pay(5000)).thenThrows('COMMAND_REJECTED');
    await order
      .given([
        placed,
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
});
