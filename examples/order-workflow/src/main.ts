import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCommandHandler, readWorkflowInstance, runWorkflow } from 'eventloom';
import { createSqliteEventStore } from 'eventloom/sqlite';
import { createTestClock } from 'eventloom/testing';
import { order, orderStream } from './order.js';
import { PAYMENT_TIMEOUT_MS, payment } from './payment.js';

const folder = mkdtempSync(join(tmpdir(), 'eventloom-orders-'));
const store = createSqliteEventStore({ path: join(folder, 'orders.db') });
const handleOrder = createCommandHandler({ store, decider: order });

// The clock is injected so the example need not wait 15 minutes; production leaves `now` out.
const clock = createTestClock('2030-01-01T12:00:00Z');
const startRunner = () =>
  runWorkflow({
    store,
    workflow: payment,
    timers: store.documents.async, // the timers' due-time index, in the same SQLite file
    now: clock.now,
    autoFireTimers: false, // fireDueTimers() below fires them; by default a loop does
    commands: {
      // The command id derives from the input: as idempotency key it makes a re-dispatch a no-op.
      CancelOrder: async (command) => {
        await handleOrder(orderStream(command.data.orderId), command, {
          idempotencyKey: command.id,
        });
      },
    },
  });

try {
  let runner = startRunner();
  await handleOrder(orderStream('o-1'), {
    type: 'PlaceOrder',
    data: { orderId: 'o-1', total: 25 },
  });
  const placed = await handleOrder(orderStream('o-2'), {
    type: 'PlaceOrder',
    data: { orderId: 'o-2', total: 40 },
  });
  await runner.waitFor(placed.lastPosition);
  console.log('placed orders o-1 and o-2: each has a payment timer');

  const paid = await handleOrder(orderStream('o-1'), {
    type: 'PayOrder',
    data: { orderId: 'o-1' },
  });
  await runner.waitFor(paid.lastPosition);
  console.log('paid o-1: its timer is cancelled');

  // A restart: the timers live in the store, so a new runner finds them.
  await runner.stop();
  runner = startRunner();
  console.log('restarted the workflow runner');

  clock.advance(PAYMENT_TIMEOUT_MS);
  const fired = await runner.fireDueTimers();
  console.log(`${PAYMENT_TIMEOUT_MS / 60_000} minutes later: ${fired} timer fired`);
  assert.equal(fired, 1);

  const [o1] = await store.readStream(orderStream('o-1'), { direction: 'backwards', maxCount: 1 });
  const [o2] = await store.readStream(orderStream('o-2'), { direction: 'backwards', maxCount: 1 });
  assert.equal(o1?.type, 'OrderPaid');
  assert.equal(o2?.type, 'OrderCancelled');
  console.log(`o-1 ends with ${o1.type}, o-2 with ${o2.type}`);

  const view = await readWorkflowInstance(store, payment, 'o-2');
  for (const step of view.inputs) {
    console.log(
      `  workflow payment/o-2: ${step.input.type} -> ${step.outputs.map((o) => o.kind).join(', ') || 'nothing'}`,
    );
  }
  assert.equal(view.state.status, 'timed-out');
  await runner.stop();
  console.log('order-workflow example: ok');
} finally {
  await store.close();
  rmSync(folder, { recursive: true, force: true });
}
