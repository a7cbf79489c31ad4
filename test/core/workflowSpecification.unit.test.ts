import { describe, expect, it } from 'vitest';
import { createTestClock, WorkflowSpecification } from '../../src/core/testing/index.js';
import { defineWorkflow } from '../../src/core/workflow.js';
import {
  PAYMENT_TIMEOUT_MS,
  paymentWorkflow,
  reminderWorkflow,
} from '../support/paymentWorkflow.js';

const spec = WorkflowSpecification.for(paymentWorkflow, { start: '2030-01-01T00:00:00Z' });
const placed = { type: 'OrderPlaced', data: { orderId: 'o1' } } as const;
const paid = { type: 'OrderPaid', data: { orderId: 'o1' } } as const;
const timedOut = { type: 'PaymentTimedOut', data: { orderId: 'o1' } } as const;

describe('WorkflowSpecification', () => {
  it('shows the outputs an input causes', () =>
    spec.when(placed).then([
      { kind: 'command', type: 'ReserveStock', data: { orderId: 'o1' } },
      { kind: 'event', stream: 'notices-o1', type: 'PaymentRequested', data: { orderId: 'o1' } },
      {
        kind: 'schedule',
        timerId: 'payment-timeout',
        afterMs: PAYMENT_TIMEOUT_MS,
        message: timedOut,
      },
    ]));

  it('shows the timers pending after an input, with their due time', () =>
    spec
      .when(placed)
      .thenTimers([
        { timerId: 'payment-timeout', dueAt: '2030-01-01T00:00:01Z', message: timedOut },
      ]));

  it('fires a due timer when the clock moves past it', () =>
    spec
      .given([placed])
      .whenTimeAdvances(PAYMENT_TIMEOUT_MS)
      .then([
        {
          kind: 'command',
          type: 'CancelOrder',
          data: { orderId: 'o1', reason: 'not paid in time' },
        },
      ]));

  it('fires nothing before the timer is due', () =>
    spec
      .given([placed])
      .whenTimeAdvances(PAYMENT_TIMEOUT_MS - 1)
      .thenNothingHappened());

  it('never fires a timer the workflow cancelled', () =>
    spec
      .given([placed, paid])
      .whenTimeAdvances(PAYMENT_TIMEOUT_MS * 5)
      .thenNothingHappened());

  it('lets the clock move inside the history', async () => {
    await spec
      .given([placed, { advanceMs: PAYMENT_TIMEOUT_MS }])
      .when(paid)
      .thenNothingHappened();
    await spec
      .given([placed, { advanceMs: PAYMENT_TIMEOUT_MS }])
      .when(paid)
      .thenState({
        status: 'timed-out',
      });
  });

  it('treats an input given again with the same id as a redelivery: nothing happens', () =>
    WorkflowSpecification.for(reminderWorkflow)
      .given([{ type: 'Snooze', data: null, id: 'e1' }])
      .when({ type: 'Snooze', data: null, id: 'e1' })
      .thenNothingHappened());

  it('folds the state from the handled inputs', () =>
    spec.given([placed]).when(paid).thenState({ status: 'paid' }));

  it('fails with the first difference when the outputs differ', async () => {
    await expect(
      spec.when(placed).then([{ kind: 'command', type: 'ReserveStock', data: { orderId: 'o2' } }]),
    ).rejects.toThrow(/at outputs\[0\]\.data\.orderId: expected "o2", received "o1"/);
  });

  it('reports a malformed output as thrown, with the output path', async () => {
    const broken = defineWorkflow({
      name: 'broken',
      inputs: ['Ping'],
      instanceOf: () => 'one',
      initialState: () => null,
      evolve: (s) => s,
      decide: () =>
        [{ kind: 'schedule', timerId: 't', message: { type: 'Pong', data: {} } }] as never,
    });
    await WorkflowSpecification.for(broken)
      .when({ type: 'Ping', data: {} })
      .thenThrows('VALIDATION');
    await expect(
      WorkflowSpecification.for(broken).when({ type: 'Ping', data: {} }).thenNothingHappened(),
    ).rejects.toThrow(/decide\(Ping\)\[0\]: a schedule needs exactly one of 'at'/);
  });

  it('replaces a pending timer rescheduled under the same id: only the new one fires', async () => {
    const snooze = { type: 'Snooze', data: null } as const;
    const reminderSpec = WorkflowSpecification.for(reminderWorkflow);
    await reminderSpec
      .given([snooze, { advanceMs: 60 }, snooze])
      .whenTimeAdvances(60)
      .thenNothingHappened();
    await reminderSpec
      .given([snooze, { advanceMs: 60 }, snooze])
      .whenTimeAdvances(100)
      .thenState({ reminders: 1 });
  });
});

describe('createTestClock', () => {
  it('moves only when the test moves it', () => {
    const clock = createTestClock('2030-01-01T00:00:00Z');
    expect(clock.now().toISOString()).toBe('2030-01-01T00:00:00.000Z');
    clock.advance(1500);
    expect(clock.now().toISOString()).toBe('2030-01-01T00:00:01.500Z');
    clock.set('2031-06-01T12:00:00Z');
    expect(clock.now().toISOString()).toBe('2031-06-01T12:00:00.000Z');
  });
});
