import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  OrderEnvelope,
  OrderList,
  PaymentList,
  PaymentResult,
  ProductEnvelope,
  ProductList,
} from '../../src/server/apiSchemas.js';
import { createHarness, type Harness, PASSWORD } from './serverHarness.js';

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
  await h.register('ada');
  await h.register('bob');
  await h.register('root');
});
afterEach(async () => {
  await h.close();
});

const ada = { basic: ['ada', PASSWORD] as [string, string] };

async function addProduct(
  name: string,
  priceCents: number,
  who: [string, string] = ['ada', PASSWORD],
) {
  const res = await h.call('POST', '/api/shop/products', {
    basic: who,
    body: { name, price_cents: priceCents },
  });
  expect(res.status).toBe(201);
  return ProductEnvelope.parse(await res.json()).product;
}

/** Ada orders `quantity` of one product. */
async function placeOrder(productId: string, quantity: number) {
  const res = await h.call('POST', '/api/shop/orders', {
    ...ada,
    body: { items: [{ product_id: productId, quantity }] },
  });
  expect(res.status).toBe(201);
  return OrderEnvelope.parse(await res.json()).order;
}

describe('/api/shop', () => {
  it('adds products as a user or an admin and records who added them', async () => {
    const mug = await addProduct('Mug', 1500);
    const book = await addProduct('Book', 2500, ['root', PASSWORD]);
    expect(mug).toMatchObject({
      name: 'Mug',
      price_cents: 1500,
      description: '',
      added_by: { username: 'ada', role: 'user' },
    });
    expect(book.added_by).toMatchObject({ username: 'root', role: 'admin' });
    const list = ProductList.parse(await (await h.request('/api/shop/products')).json());
    expect(list.products.map((p) => p.name)).toEqual(['Mug', 'Book']);
    const one = await h.request(`/api/shop/products/${mug.id}`);
    expect(one.headers.get('etag')).toBe('"1"');
    expect(ProductEnvelope.parse(await one.json()).product.id).toBe(mug.id);
    const event = (await h.store.readAll()).find((e) => e.type === 'ProductAdded');
    expect(event?.streamId).toBe(`product-${mug.id}`);
  });

  it('places an order at the products’ prices, reserves it and pays it: OrderPlaced, OrderReserved, PaymentProcessed', async () => {
    const mug = await addProduct('Mug', 1500);
    const book = await addProduct('Book', 2500);
    const placed = await h.call('POST', '/api/shop/orders', {
      ...ada,
      body: {
        items: [
          { product_id: mug.id, quantity: 2 },
          { product_id: book.id, quantity: 1 },
        ],
      },
    });
    expect(placed.status).toBe(201);
    const { order } = OrderEnvelope.parse(await placed.json());
    expect(order).toMatchObject({
      status: 'reserved',
      total_cents: 5500,
      payment: null,
      username: 'ada',
    });
    expect(order.items[0]).toMatchObject({
      name: 'Mug',
      quantity: 2,
      unit_price_cents: 1500,
      line_total_cents: 3000,
    });
    expect(placed.headers.get('location')).toBe(`/api/shop/orders/${order.id}`);

    const paid = await h.call('POST', `/api/shop/orders/${order.id}/payments`, {
      ...ada,
      headers: { 'if-match': placed.headers.get('etag') ?? '' },
      body: { amount_cents: 5500, method: 'card' },
    });
    expect(paid.status).toBe(201);
    const result = PaymentResult.parse(await paid.json());
    expect(result.order.status).toBe('paid');
    expect(result.payment).toMatchObject({
      order_id: order.id,
      amount_cents: 5500,
      method: 'card',
    });

    const types = (await h.store.readStream(`order-${order.id}`)).map((e) => e.type);
    expect(types).toEqual(['OrderPlaced', 'OrderReserved', 'PaymentProcessed']);
    expect(result.order.timeline.map((t) => t.status)).toEqual(['placed', 'reserved', 'paid']);
    const orders = OrderList.parse(await (await h.call('GET', '/api/shop/orders', ada)).json());
    expect(orders.orders).toHaveLength(1);
    expect(orders.orders[0]?.payment?.id).toBe(result.payment.id);
    const payments = PaymentList.parse(
      await (await h.call('GET', '/api/shop/payments', ada)).json(),
    );
    expect(payments.payments.map((p) => p.id)).toEqual([result.payment.id]);
  });

  it('refuses a second payment (409), a wrong amount (422) and a stale If-Match (412)', async () => {
    const mug = await addProduct('Mug', 1500);
    const placed = await h.call('POST', '/api/shop/orders', {
      ...ada,
      body: { items: [{ product_id: mug.id, quantity: 1 }] },
    });
    const { order } = OrderEnvelope.parse(await placed.json());
    const pay = (body: unknown, headers: Record<string, string> = {}) =>
      h.call('POST', `/api/shop/orders/${order.id}/payments`, { ...ada, headers, body });
    const wrong = await pay({ amount_cents: 1, method: 'card' });
    expect(wrong.status).toBe(422);
    expect(await wrong.json()).toMatchObject({
      reason: 'amount_mismatch',
      errors: [{ field: 'amount_cents' }],
    });
    expect(
      (await pay({ amount_cents: 1500, method: 'wallet' }, { 'if-match': '"2"' })).status,
    ).toBe(201);
    const stale = await pay({ amount_cents: 1500, method: 'wallet' }, { 'if-match': '"2"' });
    expect(stale.status).toBe(412);
    const again = await pay({ amount_cents: 1500, method: 'wallet' });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ reason: 'already_paid' });
  });

  it('pays once for two requests with the same Idempotency-Key', async () => {
    const mug = await addProduct('Mug', 1500);
    const order = await placeOrder(mug.id, 1);
    const pay = () =>
      h.call('POST', `/api/shop/orders/${order.id}/payments`, {
        ...ada,
        headers: { 'idempotency-key': 'pay-1', 'if-match': '"2"' },
        body: { amount_cents: 1500, method: 'card' },
      });
    const [a, b] = [await pay(), await pay()];
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(b.headers.get('idempotent-replayed')).toBe('true');
    expect(PaymentResult.parse(await b.json()).payment.id).toBe(
      PaymentResult.parse(await a.json()).payment.id,
    );
    expect((await h.store.readAll()).filter((e) => e.type === 'PaymentProcessed')).toHaveLength(1);
  });

  it('refuses with 422 an Idempotency-Key that created the order and is sent again to pay it', async () => {
    const mug = await addProduct('Mug', 1500);
    const created = await h.call('POST', '/api/shop/orders', {
      ...ada,
      headers: { 'idempotency-key': 'one-key' },
      body: { items: [{ product_id: mug.id, quantity: 1 }] },
    });
    const { order } = OrderEnvelope.parse(await created.json());
    const pay = await h.call('POST', `/api/shop/orders/${order.id}/payments`, {
      ...ada,
      headers: { 'idempotency-key': 'one-key' },
      body: { amount_cents: 1500, method: 'card' },
    });
    expect(pay.status).toBe(422);
    expect(await pay.json()).toMatchObject({
      type: 'urn:eventloom:problem:idempotency-key-reused',
    });
    expect((await h.store.readAll()).filter((e) => e.type === 'PaymentProcessed')).toHaveLength(0);
  });

  it('answers 422 naming the item for an unknown product, and writes nothing', async () => {
    const mug = await addProduct('Mug', 1500);
    const res = await h.call('POST', '/api/shop/orders', {
      ...ada,
      body: {
        items: [
          { product_id: mug.id, quantity: 1 },
          { product_id: '00000000-0000-4000-8000-000000000000', quantity: 1 },
        ],
      },
    });
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({
      reason: 'unknown_product',
      errors: [{ pointer: '/items/1/product_id' }],
    });
    expect((await h.store.readAll()).filter((e) => e.type === 'OrderPlaced')).toHaveLength(0);
  });

  it('keeps orders private: another user gets 404, an admin sees them all', async () => {
    const mug = await addProduct('Mug', 1500);
    const order = await placeOrder(mug.id, 1);
    expect(
      (await h.call('GET', `/api/shop/orders/${order.id}`, { basic: ['bob', PASSWORD] })).status,
    ).toBe(404);
    const pay = await h.call('POST', `/api/shop/orders/${order.id}/payments`, {
      basic: ['bob', PASSWORD],
      body: { amount_cents: 1500, method: 'card' },
    });
    expect(pay.status).toBe(404);
    expect(
      OrderList.parse(
        await (await h.call('GET', '/api/shop/orders', { basic: ['bob', PASSWORD] })).json(),
      ).orders,
    ).toEqual([]);
    const all = OrderList.parse(
      await (await h.call('GET', '/api/shop/orders', { basic: ['root', PASSWORD] })).json(),
    );
    expect(all.orders.map((o) => o.id)).toEqual([order.id]);
    const own = await h.call('GET', `/api/shop/orders/${order.id}`, ada);
    expect(own.headers.get('etag')).toBe('"2"');
  });

  it('refuses an order naming one product twice, at the second mention', async () => {
    const mug = await addProduct('Mug', 1500);
    const res = await h.call('POST', '/api/shop/orders', {
      ...ada,
      body: {
        items: [
          { product_id: mug.id, quantity: 1 },
          { product_id: mug.id, quantity: 2 },
        ],
      },
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ errors: [{ field: 'items[1].product_id' }] });
  });

  it('reserves stock when an order is placed and rejects an order beyond it, holding nothing of it', async () => {
    const lamp = ProductEnvelope.parse(
      await (
        await h.call('POST', '/api/shop/products', {
          ...ada,
          body: { name: 'Lamp', price_cents: 900, stock: 3 },
        })
      ).json(),
    ).product;
    expect((await placeOrder(lamp.id, 2)).status).toBe('reserved');
    const tooMany = await placeOrder(lamp.id, 2);
    expect(tooMany.status).toBe('rejected');
    expect(tooMany.timeline.map((t) => t.status)).toEqual(['placed', 'rejected']);
    const stock = async () =>
      ProductEnvelope.parse(await (await h.request(`/api/shop/products/${lamp.id}`)).json()).product
        .stock;
    expect(await stock()).toBe(1);
    const pay = await h.call('POST', `/api/shop/orders/${tooMany.id}/payments`, {
      ...ada,
      body: { amount_cents: 1800, method: 'card' },
    });
    expect(pay.status).toBe(409);
    expect(await pay.json()).toMatchObject({ reason: 'not_reserved' });
  });

  it('refuses with 409 order_cancelled a payment after the order was cancelled', async () => {
    const mug = await addProduct('Mug', 1500);
    const order = await placeOrder(mug.id, 1);
    await h.app.shop.orders.cancel(order.id, 'payment_timeout');
    const pay = await h.call('POST', `/api/shop/orders/${order.id}/payments`, {
      ...ada,
      body: { amount_cents: 1500, method: 'card' },
    });
    expect(pay.status).toBe(409);
    expect(pay.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await pay.json()).toMatchObject({ reason: 'order_cancelled' });
    const seen = OrderEnvelope.parse(
      await (await h.call('GET', `/api/shop/orders/${order.id}`, ada)).json(),
    ).order;
    expect(seen.status).toBe('cancelled');
    expect(seen.timeline.map((t) => t.status)).toEqual(['placed', 'reserved', 'cancelled']);
    const events = await h.store.readStream(`order-${order.id}`);
    expect(seen.timeline.map((t) => t.event_id)).toEqual(events.map((e) => e.id));
  });
});
