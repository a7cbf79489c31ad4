// `EVENTLOOM_SERVICES=workers`: the built app and the four services as separate processes,
// each with its own data folder, talking only through a real Kafka broker; the mail goes to
// the real Mailpit. Workers are killed with SIGKILL mid-flow and restarted.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { emailMessageId } from '../../src/app/index.js';
import {
  KAFKA_BROKERS,
  MAILPIT_API_URL,
  serviceAvailable,
  SMTP_URL,
  uniqueName,
} from '../support/services.js';
import {
  type EventloomProcess,
  startEventloom,
  startWorker,
  type WorkerProcess,
} from './eventloomProcess.js';

const available = (await serviceAvailable('kafka')) && (await serviceAvailable('smtp'));
const PASSWORD = 'correct horse battery';
const WAIT = { timeout: 60_000, interval: 200 };
const PREFIX = uniqueName('e2e-workers');
const MASTER_KEY = randomBytes(32).toString('base64');
const SHIPPED_EVENTS = [
  'OrderPlaced',
  'OrderReserved',
  'PaymentProcessed',
  'ShipmentRequested',
  'OrderShipped',
];

async function mailCount(messageId: string): Promise<number> {
  const bare = messageId.replace(/^<|>$/g, '');
  const response = await fetch(
    `${MAILPIT_API_URL}/api/v1/search?query=${encodeURIComponent(`message-id:"${bare}"`)}`,
  );
  return ((await response.json()) as { messages_count: number }).messages_count;
}

interface OrderJson {
  id: string;
  status: string;
  total_cents: number;
}

describe.skipIf(!available)('the shop services as separate worker processes over Kafka', () => {
  const folders: string[] = [];
  const workers = new Map<string, WorkerProcess>();
  /** Every worker process started, killed ones included: their output explains a failure. */
  const started: { name: string; process: WorkerProcess }[] = [];
  let app: EventloomProcess | undefined;
  let appData = '';
  const workerData = new Map<string, string>();
  const username = uniqueName('buyer')
    .replace(/[^a-z0-9_]/gi, '_')
    .slice(0, 30);
  const auth = `Basic ${Buffer.from(`${username}:${PASSWORD}`).toString('base64')}`;
  const common = {
    KAFKA_BROKERS,
    KAFKA_TOPIC_PREFIX: PREFIX,
    EVENTLOOM_MASTER_KEY: MASTER_KEY,
    SHIPPING_DELAY_MS: '300',
    // Longer than the suite: a payment never races the timer on a slow machine. The test of
    // the timer itself restarts the orders worker with a short one.
    ORDER_PAYMENT_TIMEOUT_MS: '600000',
  };

  const folder = async (): Promise<string> => {
    const dir = await mkdtemp(join(tmpdir(), 'eventloom-workers-'));
    folders.push(dir);
    return dir;
  };
  const runWorker = async (name: string, env: Record<string, string> = {}): Promise<void> => {
    const data = workerData.get(name) ?? (await folder());
    workerData.set(name, data);
    const worker = await startWorker(name, {
      ...common,
      EVENTLOOM_DATA: data,
      SMTP_URL,
      EVENTLOOM_KEY_STORE: join(appData, 'eventloom.db'),
      WORKER_METRICS_PORT: '0',
      ...env,
    });
    workers.set(name, worker);
    started.push({ name, process: worker });
  };
  /** The worker's own /metrics (it prints where it serves them). */
  const workerMetrics = async (name: string): Promise<string> => {
    const url = /serves \/metrics and \/health on (http:\/\/[^\s]+)/.exec(
      workers.get(name)!.output(),
    )?.[1];
    expect(url, `worker ${name} printed its metrics address`).toBeDefined();
    return (await fetch(`${url}/metrics`)).text();
  };
  const send = (method: string, path: string, body?: unknown) =>
    fetch(`${app!.url}${path}`, {
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
  const order = async (id: string): Promise<OrderJson> =>
    (await json<{ order: OrderJson }>(await send('GET', `/api/shop/orders/${id}`), 200)).order;
  const reaches = async (id: string, status: string): Promise<OrderJson> => {
    await expect.poll(async () => (await order(id)).status, WAIT).toBe(status);
    return order(id);
  };
  const events = async (streamId: string) =>
    (
      await json<{ events: { id: string; type: string }[] }>(
        await send('GET', `/api/streams/${streamId}`),
        200,
      )
    ).events;
  const stock = async (productId: string): Promise<number | null> =>
    (
      await json<{ product: { stock: number | null } }>(
        await send('GET', `/api/shop/products/${productId}`),
        200,
      )
    ).product.stock;
  const place = async (productId: string, quantity: number): Promise<OrderJson> =>
    (
      await json<{ order: OrderJson }>(
        await send('POST', '/api/shop/orders', { items: [{ product_id: productId, quantity }] }),
        201,
      )
    ).order;
  const pay = async (o: OrderJson): Promise<void> => {
    const res = await send('POST', `/api/shop/orders/${o.id}/payments`, {
      amount_cents: o.total_cents,
      method: 'card',
    });
    expect(res.status, await res.text()).toBe(201);
  };
  const addProduct = async (name: string, units: number): Promise<string> =>
    (
      await json<{ product: { id: string } }>(
        await send('POST', '/api/shop/products', { name, price_cents: 700, stock: units }),
        201,
      )
    ).product.id;
  /** Exactly one shipped mail for the order (its Message-ID names the OrderShipped event). */
  const shippedOnce = async (orderId: string): Promise<void> => {
    const shipped = (await events(`order-${orderId}`)).find((e) => e.type === 'OrderShipped');
    const messageId = emailMessageId('order-shipped', shipped!.id);
    await expect.poll(() => mailCount(messageId), WAIT).toBe(1);
  };

  beforeAll(async () => {
    appData = await folder();
    app = await startEventloom({
      dataDir: appData,
      env: {
        ...common,
        EVENTLOOM_SERVICES: 'workers',
        SEED_SAMPLE_DATA: 'false',
        EXPLORER_ACCESS: 'authenticated',
      },
    });
    for (const name of ['inventory', 'orders', 'shipping', 'notifications']) await runWorker(name);
  }, 120_000);

  beforeEach(({ onTestFailed }) => {
    onTestFailed(() => {
      for (const { name, process } of started)
        console.error(`--- worker ${name} printed:\n${process.output()}`);
      console.error(`--- the app printed:\n${app?.output() ?? ''}`);
    });
  });

  afterAll(async () => {
    for (const worker of workers.values()) await worker.kill('SIGTERM');
    await app?.stop();
    for (const dir of folders) await rm(dir, { recursive: true, force: true });
  });

  it('sends the welcome mail once, then moves an order to reserved and, once paid, to shipped with one shipped mail', async () => {
    const reg = await fetch(`${app!.url}/api/v1/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        username,
        email: `${username}@workers.test`,
        name: 'Worker Tester',
        password: PASSWORD,
      }),
    });
    const { id: userId } = (await json<{ user: { id: string } }>(reg, 201)).user;
    const [registered] = await events(`user-${userId}`);
    await expect.poll(() => mailCount(emailMessageId('welcome', registered!.id)), WAIT).toBe(1);

    const lamp = await addProduct('Lamp', 5);
    const placed = await place(lamp, 2);
    const reserved = await reaches(placed.id, 'reserved');
    expect(await stock(lamp)).toBe(3);
    await pay(reserved);
    await reaches(placed.id, 'shipped');
    expect((await events(`order-${placed.id}`)).map((e) => e.type)).toEqual(SHIPPED_EVENTS);
    await shippedOnce(placed.id);
    // The workflows ran in the workers: the app's store holds no workflow stream.
    expect((await send('GET', `/api/streams/workflow-orders-${placed.id}`)).status).toBe(404);
  }, 180_000);

  it('cancels an unpaid order when the payment timer fires in the orders worker, and releases its stock', async () => {
    await workers.get('orders')!.kill('SIGTERM');
    await runWorker('orders', { ORDER_PAYMENT_TIMEOUT_MS: '10000' });
    const vase = await addProduct('Vase', 4);
    const placed = await place(vase, 3);
    await reaches(placed.id, 'reserved');
    expect(await stock(vase)).toBe(1);
    // The orders worker's own /metrics show its pending payment timer (and process metrics).
    await expect
      .poll(
        async () =>
          /eventloom_workflow_timers_pending\{workflow="orders"\} [1-9]/.test(
            await workerMetrics('orders'),
          ),
        WAIT,
      )
      .toBe(true);
    expect(await workerMetrics('orders')).toContain('process_cpu_user_seconds_total');
    await reaches(placed.id, 'cancelled');
    await expect.poll(() => stock(vase), WAIT).toBe(4);
    await workers.get('orders')!.kill('SIGTERM');
    await runWorker('orders');
  }, 120_000);

  it('completes every order exactly once when the orders and shipping workers are killed mid-flow and restarted', async () => {
    const kettle = await addProduct('Kettle', 10);
    const orders = await Promise.all(Array.from({ length: 3 }, () => place(kettle, 1)));
    await workers.get('orders')!.kill('SIGKILL');
    await runWorker('orders');
    for (const o of orders) await pay(await reaches(o.id, 'reserved'));
    await workers.get('shipping')!.kill('SIGKILL');
    await runWorker('shipping');
    for (const o of orders) {
      await reaches(o.id, 'shipped');
      expect((await events(`order-${o.id}`)).map((e) => e.type)).toEqual(SHIPPED_EVENTS);
      await shippedOnce(o.id);
    }
    expect(await stock(kettle)).toBe(7);
  }, 300_000);
});
