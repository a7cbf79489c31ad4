import { describe, expect, it } from 'vitest';
import {
  isConfigurationError,
  isEventloomError,
  isValidationError,
} from '../../src/core/errors.js';
import { createMemoryEventStore } from '../../src/core/memoryEventStore.js';
import { runWorkflow } from '../../src/core/runWorkflow.js';
import type { RecordedEvent } from '../../src/core/types.js';
import { defineWorkflow } from '../../src/core/workflow.js';
import { readWorkflowInstance } from '../../src/core/workflowInspection.js';
import { createWorkflowProcessor } from '../../src/core/workflowProcessor.js';
import { createWorkflowTimerIndex } from '../../src/core/workflowTimers.js';
import {
  manualClock,
  orderCommandHandlers,
  orderEffects,
  PAYMENT_TIMEOUT_MS,
  paymentOptions,
  paymentWorkflow,
  reminderWorkflow,
} from '../support/paymentWorkflow.js';

const reminder = reminderWorkflow;

const recorded = (id: string, type: string, data: unknown = null): RecordedEvent => ({
  id,
  type,
  data,
  streamId: 'inputs',
  metadata: {},
  version: 1,
  position: 1,
  recordedAt: new Date(),
});

describe('workflow processor', () => {
  it('fires only the latest schedule of a rescheduled timer, even when the old entry is still indexed', async () => {
    const store = createMemoryEventStore();
    const clock = manualClock();
    const timers = store.documents.async;
    const processor = createWorkflowProcessor({
      store,
      workflow: reminder,
      commands: {},
      timers,
      now: clock.now,
    });
    await processor.handle(recorded('s1', 'Snooze'));
    const index = createWorkflowTimerIndex(timers);
    const [first] = await index.list('reminder');
    clock.advance(60);
    await processor.handle(recorded('s2', 'Snooze'));
    await index.put(first as NonNullable<typeof first>);
    clock.advance(40);
    expect(await processor.fireDueTimers()).toBe(0);
    clock.advance(60);
    expect(await processor.fireDueTimers()).toBe(1);
    expect(await processor.fireDueTimers()).toBe(0);

    expect(await store.readStream('reminders')).toHaveLength(1);
    const view = await readWorkflowInstance(store, reminder, 'one');
    expect(view.state).toEqual({ reminders: 1 });
    expect(view.inputs.map((i) => [i.input.type, i.outputs.map((o) => o.kind)])).toEqual([
      ['Snooze', ['schedule']],
      ['Snooze', ['cancel', 'schedule']],
      ['Remind', ['event']],
    ]);
    expect(await index.list('reminder')).toEqual([]);
  });

  it('fires the other due timers when one keeps failing, and reports the failing one', async () => {
    const store = createMemoryEventStore();
    const clock = manualClock();
    const processor = createWorkflowProcessor(
      paymentOptions(store, store.documents.async, clock.now),
    );
    await processor.handle(recorded('e1', 'OrderPlaced', { orderId: 'o1' }));
    clock.advance(1);
    await processor.handle(recorded('e2', 'OrderPlaced', { orderId: 'o2' }));
    clock.advance(PAYMENT_TIMEOUT_MS);
    // The order service refuses every command about o1.
    const failing = createWorkflowProcessor({
      ...paymentOptions(store, store.documents.async, clock.now),
      commands: orderCommandHandlers(store, (command) => {
        if (
          (command as { data?: { orderId?: string } }).data?.orderId === 'o1' &&
          command.type === 'CancelOrder'
        )
          throw new Error('the order service is down');
      }),
    });
    const error: unknown = await failing.fireDueTimers().catch((e: unknown) => e);
    expect(isEventloomError(error) && error.code).toBe('HANDLER_FAILED');
    expect(String(error)).toMatch(
      /1 due timer\(s\) failed to fire \(1 fired\).*'payment-timeout' of instance 'o1'.*the order service is down/,
    );
    expect(await orderEffects(store, 'o2')).toEqual(['StockReserved', 'OrderCancelled']);
    expect(await orderEffects(store, 'o1')).toEqual(['StockReserved']);
    expect(await processor.fireDueTimers()).toBe(0);
    expect(await orderEffects(store, 'o1')).toEqual(['StockReserved', 'OrderCancelled']);
  });

  it('keeps only the recorded part of an input in the instance stream, while decide sees all of it', async () => {
    type Signup = { type: 'SignedUp'; data: { userId: string; email: string } };
    const welcome = defineWorkflow<{ seen: unknown[] }, Signup>({
      name: 'welcome',
      inputs: ['SignedUp'],
      instanceOf: (input) => input.data.userId,
      initialState: () => ({ seen: [] }),
      evolve: (state, input) => ({ seen: [...state.seen, input.data] }),
      decide: (input) => [{ kind: 'command', type: 'SendWelcome', data: { to: input.data.email } }],
      recordedData: (input) => ({ userId: input.data.userId }),
    });
    const store = createMemoryEventStore();
    const sent: unknown[] = [];
    const processor = createWorkflowProcessor({
      store,
      workflow: welcome,
      commands: { SendWelcome: (c) => void sent.push(c.data) },
      timers: store.documents.async,
    });
    await processor.handle(recorded('u1', 'SignedUp', { userId: 'ada', email: 'ada@example.org' }));

    expect(sent).toEqual([{ to: 'ada@example.org' }]);
    const stream = await store.readStream('workflow-welcome-ada');
    expect(JSON.stringify(stream.filter((e) => e.type === 'WorkflowInputReceived'))).not.toContain(
      'ada@example.org',
    );
    expect((await readWorkflowInstance(store, welcome, 'ada')).state).toEqual({
      seen: [{ userId: 'ada' }],
    });
  });

  it('ignores events that are not inputs, and inputs instanceOf leaves out', async () => {
    const store = createMemoryEventStore();
    const processor = createWorkflowProcessor({
      store,
      workflow: { ...paymentWorkflow, instanceOf: () => undefined },
      commands: {} as never,
      timers: store.documents.async,
    });
    expect((await processor.handle(recorded('e1', 'Unrelated'))).outcome).toBe('ignored');
    expect((await processor.handle(recorded('e2', 'OrderPlaced', { orderId: 'o1' }))).outcome).toBe(
      'ignored',
    );
    expect(await store.headPosition()).toBe(0);
  });

  it('refuses a command without a handler loudly, naming the command, and dispatches it once one is there', async () => {
    const store = createMemoryEventStore();
    const options = { store, workflow: paymentWorkflow, timers: store.documents.async };
    const partial = createWorkflowProcessor({ ...options, commands: {} as never });
    const input = recorded('e1', 'OrderPlaced', { orderId: 'o1' });
    const error: unknown = await partial.handle(input).catch((e: unknown) => e);
    expect(isConfigurationError(error)).toBe(true);
    expect(String(error)).toMatch(/issued command 'ReserveStock'.*add commands: \{ ReserveStock/);

    const seen: string[] = [];
    const complete = createWorkflowProcessor({
      ...options,
      commands: {
        ReserveStock: (c) => void seen.push(`${c.type}:${c.id}`),
        ShipOrder: () => undefined,
        CancelOrder: () => undefined,
      },
    });
    expect((await complete.handle(input)).outcome).toBe('redelivered');
    expect(seen).toHaveLength(1);
  });

  it('rejects an instance id that is not a non-empty string', async () => {
    const store = createMemoryEventStore();
    const processor = createWorkflowProcessor({
      store,
      workflow: { ...paymentWorkflow, instanceOf: () => 42 as never },
      commands: {} as never,
      timers: store.documents.async,
    });
    await expect(processor.handle(recorded('e1', 'OrderPlaced', {}))).rejects.toThrow(
      /instanceOf\(OrderPlaced\): must return the instance id .* got number 42/,
    );
  });

  it('rejects a malformed definition and malformed runner options with the path', () => {
    const store = createMemoryEventStore();
    const bad = (f: () => unknown): unknown => {
      try {
        f();
      } catch (error) {
        return error;
      }
      return undefined;
    };
    const noInputs = bad(() => defineWorkflow({ ...paymentWorkflow, inputs: [] }));
    expect(isValidationError(noInputs) && noInputs.path).toBe('workflow.inputs');
    const badName = bad(() => defineWorkflow({ ...paymentWorkflow, name: 'a-b' }));
    expect(isValidationError(badName) && badName.path).toBe('workflow.name');
    const base = { store, workflow: paymentWorkflow, commands: {}, timers: store.documents.async };
    const typo = bad(() => runWorkflow({ ...base, timerPollMs: 5 } as never));
    expect(isValidationError(typo) && typo.path).toBe('options.timerPollMs');
    const handler = bad(() => runWorkflow({ ...base, commands: { ShipOrder: 'x' } } as never));
    expect(isValidationError(handler) && handler.path).toBe('options.commands.ShipOrder');
    const noTimers = bad(() => runWorkflow({ ...base, timers: undefined } as never));
    expect(isValidationError(noTimers) && noTimers.path).toBe('options.timers');
  });
});
