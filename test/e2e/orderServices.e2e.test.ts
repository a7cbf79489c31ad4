// The shop's services (inventory, the order workflow, shipping) as `eventloom start` runs them:
// the built app in its own process, over real HTTP, on its embedded store; killed with
// SIGKILL in the middle and restarted on the same data folder.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type EventloomProcess, startEventloom } from './eventloomProcess.js';

const PASSWORD = 'correct horse battery';
const WAIT = { timeout: 20_000, interval: 100 };

interface OrderJson {
  id: string;
  status: string;
  total_cents: number;
  timeline: { status: string; at: string; event_id: string }[];
}

/** A customer of one running app (Basic auth over a real socket). */
function client(server: () => EventloomProcess, username: string) {
  const auth = `Basic ${Buffer.from(`${username}:${PASSWORD}`).toString('base64')}`;
  const send = (method: string, path: string, body?: unknown) =>
    fetch(`${server().url}${path}`, {
      method,
      headers: {
        authorization: auth,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const json = async <T>(res: Response, status: number): Promise<T> => {
    const text = await res.text();
    expect(res.status, text).toBe(status);
    return JSON.parse(text) as T;
  };
  return {
    send,
    async register(): Promise<void> {
      const res = await fetch(`${server().url}/api/v1/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          username,
          email: `${username}@orders.test`,
          name: 'Order Tester',
          password: PASSWORD,
        }),
      });
      expect(res.status).toBe(201);
    },
    async addProduct(name: string, stock: number): Promise<string> {
      const res = await send('POST', '/api/shop/products', { name, price_cents: 700, stock });
      return (await json<{ product: { id: string } }>(res, 201)).product.id;
    },
    async stock(productId: string): Promise<number | null> {
      const res = await send('GET', `/api/shop/products/${productId}`);
      return (await json<{ product: { stock: number | null } }>(res, 200)).product.stock;
    },
    async place(productId: string, quantity: number): Promise<OrderJson> {
      const res = await send('POST', '/api/shop/orders', {
        items: [{ product_id: productId, quantity }],
      });
      return (await json<{ order: OrderJson }>(res, 201)).order;
    },
    async order(id: string): Promise<OrderJson> {
      return (await json<{ order: OrderJson }>(await send('GET', `/api/shop/orders/${id}`), 200))
        .order;
    },
    pay(order: OrderJson): Promise<Response> {
      return send('POST', `/api/shop/orders/${order.id}/payments`, {
        amount_cents: order.total_cents,
        method: 'card',
      });
    },
    async eventTypes(streamId: string): Promise<string[]> {
      const res = await send('GET', `/api/streams/${streamId}`);
      return (await json<{ events: { type: string }[] }>(res, 200)).events.map((e) => e.type);
    },
  };
}

type Client = ReturnType<typeof client>;

/** Resolves with the order once it reaches `status` (the services move it asynchronously). */
async function reaches(shop: Client, orderId: string, status: string): Promise<OrderJson> {
  await expect.poll(async () => (await shop.order(orderId)).status, WAIT).toBe(status);
  return shop.order(orderId);
}

const folders: string[] = [];
afterAll(async () => {
  for (const folder of folders) await rm(folder, { recursive: true, force: true });
});

async function dataFolder(): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), 'eventloom-orders-'));
  folders.push(folder);
  return folder;
}

const SHIPPED_TIMELINE = ['placed', 'reserved', 'paid', 'shipped'];
/** A shipped order's stream: each step exactly once. */
const SHIPPED_EVENTS = [
  'OrderPlaced',
  'OrderReserved',
  'PaymentProcessed',
  'ShipmentRequested',
  'OrderShipped',
];

const BASE_ENV = { SEED_SAMPLE_DATA: 'false', EXPLORER_ACCESS: 'authenticated' };

describe('the shop services in `eventloom start`', () => {
  let server: EventloomProcess | undefined;
  let dataDir = '';
  const env = { ...BASE_ENV, ORDER_PAYMENT_TIMEOUT_MS: '600000', SHIPPING_DELAY_MS: '1500' };
  const shop = client(() => server!, 'orderer');

  afterAll(async () => {
    await server?.stop();
  });

  it('moves a paid order from placed through reserved and paid to shipped, with its timeline', async () => {
    dataDir = await dataFolder();
    server = await startEventloom({ env, dataDir });
    await shop.register();
    const lamp = await shop.addProduct('Lamp', 5);
    const placed = await shop.place(lamp, 2);
    expect(['placed', 'reserved']).toContain(placed.status);
    const reserved = await reaches(shop, placed.id, 'reserved');
    expect(await shop.stock(lamp)).toBe(3);

    const paid = await shop.pay(reserved);
    expect(paid.status).toBe(201);
    const shipped = await reaches(shop, placed.id, 'shipped');
    expect(shipped.timeline.map((t) => t.status)).toEqual(SHIPPED_TIMELINE);
    expect(await shop.eventTypes(`order-${placed.id}`)).toEqual(SHIPPED_EVENTS);
    expect(await shop.stock(lamp)).toBe(3);
  });

  it('rejects an order beyond the stock, holds nothing for it, and refuses its payment', async () => {
    const vase = await shop.addProduct('Vase', 1);
    const placed = await shop.place(vase, 2);
    const rejected = await reaches(shop, placed.id, 'rejected');
    expect(rejected.timeline.map((t) => t.status)).toEqual(['placed', 'rejected']);
    expect(await shop.stock(vase)).toBe(1);
    const pay = await shop.pay(rejected);
    expect(pay.status).toBe(409);
    expect(await pay.json()).toMatchObject({ reason: 'not_reserved' });
  });

  it('never oversells the last units to concurrent orders', async () => {
    const clock = await shop.addProduct('Clock', 3);
    const orders = await Promise.all(Array.from({ length: 8 }, () => shop.place(clock, 1)));
    await expect
      .poll(
        async () =>
          (await Promise.all(orders.map((o) => shop.order(o.id)))).every((o) =>
            ['reserved', 'rejected'].includes(o.status),
          ),
        WAIT,
      )
      .toBe(true);
    const statuses = (await Promise.all(orders.map((o) => shop.order(o.id)))).map((o) => o.status);
    expect(statuses.filter((s) => s === 'reserved')).toHaveLength(3);
    expect(statuses.filter((s) => s === 'rejected')).toHaveLength(5);
    expect(await shop.stock(clock)).toBe(0);
  });

  it('completes every order exactly once after a SIGKILL while orders are in flight', async () => {
    const kettle = await shop.addProduct('Kettle', 10);
    const paidOnes = await Promise.all(Array.from({ length: 4 }, () => shop.place(kettle, 1)));
    for (const order of paidOnes) {
      const reserved = await reaches(shop, order.id, 'reserved');
      expect((await shop.pay(reserved)).status).toBe(201);
    }
    // Placed just before the kill: reservation, shipment requests and carrier timers in flight.
    const unpaid = await Promise.all(Array.from({ length: 3 }, () => shop.place(kettle, 1)));
    await server!.kill('SIGKILL');

    server = await startEventloom({ env, dataDir });
    for (const order of unpaid) {
      const reserved = await reaches(shop, order.id, 'reserved');
      expect((await shop.pay(reserved)).status).toBe(201);
    }
    for (const order of [...paidOnes, ...unpaid]) {
      const shipped = await reaches(shop, order.id, 'shipped');
      expect(shipped.timeline.map((t) => t.status)).toEqual(SHIPPED_TIMELINE);
      expect(await shop.eventTypes(`order-${order.id}`)).toEqual(SHIPPED_EVENTS);
    }
    expect(await shop.stock(kettle)).toBe(3);
  });
});

describe('an unpaid order in `eventloom start`', () => {
  let server: EventloomProcess | undefined;
  const shop = client(() => server!, 'slowpayer');

  afterAll(async () => {
    await server?.stop();
  });

  it('is cancelled after ORDER_PAYMENT_TIMEOUT_MS, its stock released, and a late payment refused with 409', async () => {
    server = await startEventloom({
      env: { ...BASE_ENV, ORDER_PAYMENT_TIMEOUT_MS: '1000', SHIPPING_DELAY_MS: '0' },
      dataDir: await dataFolder(),
    });
    await shop.register();
    const desk = await shop.addProduct('Desk', 2);
    const placed = await shop.place(desk, 2);
    await reaches(shop, placed.id, 'reserved');
    expect(await shop.stock(desk)).toBe(0);

    const cancelled = await reaches(shop, placed.id, 'cancelled');
    expect(cancelled.timeline.map((t) => t.status)).toEqual(['placed', 'reserved', 'cancelled']);
    await expect.poll(() => shop.stock(desk), WAIT).toBe(2);
    const late = await shop.pay(cancelled);
    expect(late.status).toBe(409);
    expect(await late.json()).toMatchObject({ reason: 'order_cancelled' });
  });
});
