/**
 * A small payment workflow and an order decider for the workflow tests: an order placed
 * reserves stock and waits `PAYMENT_TIMEOUT_MS` for the payment; paid in time it ships, else
 * it is cancelled. The order decider always appends, so a command applied twice shows twice.
 */
import { createCommandHandler } from '../../src/core/commandHandler.js';
import type { Decider } from '../../src/core/decider.js';
import { createMemoryDocuments } from '../../src/core/memoryDocumentStore.js';
import type { MemoryEventStore } from '../../src/core/memoryEventStore.js';
import { startProjection } from '../../src/core/projections.js';
import { runWorkflow } from '../../src/core/runWorkflow.js';
import { workflowInstancesProjection } from '../../src/core/workflowInspection.js';
import type { DocumentStore } from '../../src/core/readModel.js';
import { createTestClock, type TestClock } from '../../src/core/testing/index.js';
import type { EventStore } from '../../src/core/types.js';
import { defineWorkflow } from '../../src/core/workflow.js';
import type { WorkflowCommandHandlers } from '../../src/core/workflowProcessor.js';

export const PAYMENT_TIMEOUT_MS = 1000;

export type PaymentInput =
  | { type: 'OrderPlaced'; data: { orderId: string } }
  | { type: 'OrderPaid'; data: { orderId: string } }
  | { type: 'PaymentTimedOut'; data: { orderId: string } };

export type OrderCommand =
  | { type: 'ReserveStock'; data: { orderId: string } }
  | { type: 'ShipOrder'; data: { orderId: string } }
  | { type: 'CancelOrder'; data: { orderId: string; reason: string } };

export type NoticeEvent = { type: 'PaymentRequested'; data: { orderId: string } };

export interface PaymentState {
  status: 'new' | 'placed' | 'paid' | 'timed-out';
}

export const paymentWorkflow = defineWorkflow<
  PaymentState,
  PaymentInput,
  OrderCommand,
  NoticeEvent
>({
  name: 'payment',
  inputs: ['OrderPlaced', 'OrderPaid'],
  instanceOf: (input) => input.data.orderId,
  initialState: () => ({ status: 'new' }),
  evolve(state, input) {
    switch (input.type) {
      case 'OrderPlaced':
        return state.status === 'new' ? { status: 'placed' } : state;
      case 'OrderPaid':
        return state.status === 'placed' ? { status: 'paid' } : state;
      case 'PaymentTimedOut':
        return state.status === 'placed' ? { status: 'timed-out' } : state;
    }
  },
  decide(input, state) {
    const { orderId } = input.data;
    switch (input.type) {
      case 'OrderPlaced':
        if (state.status !== 'new') return [];
        return [
          { kind: 'command', type: 'ReserveStock', data: { orderId } },
          {
            kind: 'event',
            stream: `notices-${orderId}`,
            type: 'PaymentRequested',
            data: { orderId },
          },
          {
            kind: 'schedule',
            timerId: 'payment-timeout',
            afterMs: PAYMENT_TIMEOUT_MS,
            message: { type: 'PaymentTimedOut', data: { orderId } },
          },
        ];
      case 'OrderPaid':
        if (state.status !== 'placed') return [];
        return [
          { kind: 'cancel', timerId: 'payment-timeout' },
          { kind: 'command', type: 'ShipOrder', data: { orderId } },
        ];
      case 'PaymentTimedOut':
        if (state.status !== 'placed') return [];
        return [
          { kind: 'command', type: 'CancelOrder', data: { orderId, reason: 'not paid in time' } },
        ];
    }
  },
});

type OrderEvent =
  | { type: 'StockReserved'; data: { orderId: string } }
  | { type: 'OrderShipped'; data: { orderId: string } }
  | { type: 'OrderCancelled'; data: { orderId: string; reason: string } };

const EVENT_FOR = {
  ReserveStock: 'StockReserved',
  ShipOrder: 'OrderShipped',
  CancelOrder: 'OrderCancelled',
} as const;

/** Records every command it gets, with no business rule: a duplicate effect is visible. */
const orderDecider: Decider<null, OrderCommand, OrderEvent> = {
  initialState: () => null,
  evolve: (state) => state,
  decide: (command) => ({ type: EVENT_FOR[command.type], data: command.data }) as OrderEvent,
};

/**
 * Command handlers that apply each command to `order-<orderId>` through a command handler with
 * the workflow's command id as idempotency key. `before` runs before each one (failure injection).
 */
export function orderCommandHandlers(
  store: EventStore,
  before?: (command: { type: string; id: string }) => void | Promise<void>,
): WorkflowCommandHandlers<OrderCommand> {
  const handle = createCommandHandler({ store, decider: orderDecider });
  const run = async (command: OrderCommand & { id: string }): Promise<void> => {
    await before?.(command);
    await handle(`order-${command.data.orderId}`, command, { idempotencyKey: command.id });
  };
  return { ReserveStock: run, ShipOrder: run, CancelOrder: run };
}

/** The order's effects: the event types in `order-<orderId>`, in order. */
export async function orderEffects(store: EventStore, orderId: string): Promise<string[]> {
  return (await store.readStream(`order-${orderId}`)).map((e) => e.type);
}

/** A clock the test moves by hand. */
export const manualClock = (): TestClock => createTestClock();

export type ReminderInput = { type: 'Snooze'; data: null } | { type: 'Remind'; data: null };

/** Each snooze (re)schedules the reminder 100 ms later; a reminder emits `Reminded`. */
export const reminderWorkflow = defineWorkflow<{ reminders: number }, ReminderInput>({
  name: 'reminder',
  inputs: ['Snooze'],
  instanceOf: () => 'one',
  initialState: () => ({ reminders: 0 }),
  evolve: (s, input) => (input.type === 'Remind' ? { reminders: s.reminders + 1 } : s),
  decide: (input) =>
    input.type === 'Snooze'
      ? [{ kind: 'schedule', timerId: 'r', afterMs: 100, message: { type: 'Remind', data: null } }]
      : [{ kind: 'event', stream: 'reminders', type: 'Reminded', data: null }],
});

/** The processor options of the payment workflow on `store`, timers in `timers`. */
export function paymentOptions(store: EventStore, timers: DocumentStore, now: () => Date) {
  return {
    store,
    workflow: paymentWorkflow,
    commands: orderCommandHandlers(store),
    timers,
    now,
  };
}

/**
 * The payment workflow running on a memory store (timers fired by hand, on `clock`) with the
 * workflow-instances projection into memory documents; `stop` ends both.
 */
export function runPaymentWithInstances(store: MemoryEventStore) {
  const clock = manualClock();
  const runner = runWorkflow({
    ...paymentOptions(store, store.documents.async, clock.now),
    autoFireTimers: false,
  });
  const docs = createMemoryDocuments();
  const projection = startProjection({
    store,
    projection: workflowInstancesProjection(),
    target: docs.target,
  });
  const stop = async (): Promise<void> => {
    await projection.stop();
    await runner.stop();
  };
  return { clock, runner, docs, projection, stop };
}
