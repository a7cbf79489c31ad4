// The shop's services on a real (in-memory) store, run as `eventloom start` runs them, with a
// clock the test moves.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMemoryEventStore, noopLogger } from '../../../src/core/index.js';
import { createTestClock } from '../../../src/core/testing/index.js';
import { createShop } from '../../../src/app/shop.js';
import {
  APP_SERVICES,
  type AppServiceContext,
  orderService,
  runAppServices,
  type RunningAppServices,
} from '../../../src/app/services/index.js';

const ada = { userId: 'u-ada', username: 'ada-lovelace-private', role: 'user' } as const;
let running: RunningAppServices | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

function setup() {
  const store = createMemoryEventStore();
  const shop = createShop({ store, reserveOnPlace: false });
  const clock = createTestClock();
  const context: AppServiceContext = {
    store,
    shop,
    inventory: shop.inventory,
    timers: store.documents.async,
    now: clock.now,
    config: { orderPaymentTimeoutMs: 60_000, shippingDelayMs: 5000 },
    logger: noopLogger,
  };
  running = runAppServices(
    Object.values(APP_SERVICES).map((service) => service(context)),
    context,
  );
  const services = running;
  const statusOf = async (id: string) => (await shop.getOrder(ada, id))?.status;
  const fireTimers = async (ms: number) => {
    clock.advance(ms);
    for (const runner of services.runners) await runner.fireDueTimers();
  };
  return { store, shop, context, statusOf, fireTimers };
}

describe('the shop services on a store', () => {
  it('reserve, ship on time, and keep no username in their workflow streams', async () => {
    const { store, shop, statusOf, fireTimers } = setup();
    const lamp = (
      await shop.addProduct(ada, { name: 'Lamp', description: '', priceCents: 900, stock: 2 })
    ).value;
    const order = (await shop.placeOrder(ada, { items: [{ productId: lamp.id, quantity: 1 }] }))
      .value;
    expect(order.status).toBe('placed');
    await vi.waitFor(async () => expect(await statusOf(order.id)).toBe('reserved'));
    await shop.payOrder(ada, order.id, { amountCents: 900, method: 'card' });
    await vi.waitFor(async () => {
      const timers = await store.documents.async.find('eventloom_workflow_timers', {});
      expect(timers.map((t) => (t as { workflow?: string }).workflow)).toContain('shipping');
    });
    await fireTimers(5000);
    await vi.waitFor(async () => expect(await statusOf(order.id)).toBe('shipped'));

    const recorded = (await store.readAll()).filter((e) => e.streamId.startsWith('workflow-'));
    expect(new Set(recorded.map((e) => e.streamId.split('-')[1]))).toEqual(
      new Set(['inventory', 'orders', 'shipping']),
    );
    expect(JSON.stringify(recorded)).toContain(order.id);
    expect(JSON.stringify(recorded)).not.toContain(ada.username);
  });

  it('cancel an order unpaid when the clock passes the timeout, and release its stock', async () => {
    const { shop, statusOf, fireTimers } = setup();
    const lamp = (
      await shop.addProduct(ada, { name: 'Lamp', description: '', priceCents: 900, stock: 2 })
    ).value;
    const order = (await shop.placeOrder(ada, { items: [{ productId: lamp.id, quantity: 2 }] }))
      .value;
    await vi.waitFor(async () => expect(await statusOf(order.id)).toBe('reserved'));
    expect((await shop.getProduct(lamp.id))?.stock).toBe(0);
    await fireTimers(59_999);
    expect(await statusOf(order.id)).toBe('reserved');
    await fireTimers(1);
    await vi.waitFor(async () => expect(await statusOf(order.id)).toBe('cancelled'));
    await vi.waitFor(async () => expect((await shop.getProduct(lamp.id))?.stock).toBe(2));
    await expect(
      shop.payOrder(ada, order.id, { amountCents: 1800, method: 'card' }),
    ).rejects.toMatchObject({ details: { reason: 'order_cancelled' } });
  });

  it('let a payment that reached the order before the timer’s cancellation win', async () => {
    const { shop, statusOf, context } = setup();
    const lamp = (await shop.addProduct(ada, { name: 'Lamp', description: '', priceCents: 900 }))
      .value;
    const order = (await shop.placeOrder(ada, { items: [{ productId: lamp.id, quantity: 1 }] }))
      .value;
    await vi.waitFor(async () => expect(await statusOf(order.id)).toBe('reserved'));
    await shop.payOrder(ada, order.id, { amountCents: 900, method: 'card' });
    const commands = orderService(context).workflows[0]!.commands as Record<
      string,
      (command: unknown) => Promise<void>
    >;
    // The timer's CancelOrder, dispatched after the payment: refused by the order, not retried.
    await expect(
      commands.CancelOrder!({
        id: 'late-timer-command',
        type: 'CancelOrder',
        data: { orderId: order.id, reason: 'payment_timeout' },
        metadata: {},
        workflow: 'orders',
        instanceId: order.id,
        inputId: 'late-timer',
      }),
    ).resolves.toBeUndefined();
    expect(await statusOf(order.id)).toBe('paid');
  });
});
