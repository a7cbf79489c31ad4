/**
 * Workflow runner guarantees, written once and run against every store: a redelivered input
 * acts once, a crash between recording and dispatching completes the effects exactly once on
 * restart, timers survive restarts and never fire once cancelled. Each store's test file calls
 * `workflowRunnerContract` with a factory for a fresh store and a document store for timers.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { DocumentStore } from '../../src/core/readModel.js';
import { runWorkflow, type WorkflowRunner } from '../../src/core/runWorkflow.js';
import type { EventStore, RecordedEvent } from '../../src/core/types.js';
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
} from '../support/paymentWorkflow.js';

export interface WorkflowRunnerHarness {
  /** A fresh empty store and the document store its timers go to. */
  create(): Promise<{ store: EventStore; timers: DocumentStore }>;
  /** Skip the suite (its service is unavailable; the reason was printed). */
  skip?: boolean;
  /** Runs of the random-schedule property. Default 25. */
  propertyRuns?: number;
  /** Most steps in one random schedule. Default 25. */
  propertySteps?: number;
}

const placed = (orderId: string) => ({ type: 'OrderPlaced', data: { orderId } });
const paid = (orderId: string) => ({ type: 'OrderPaid', data: { orderId } });

export function workflowRunnerContract(name: string, harness: WorkflowRunnerHarness): void {
  describe.skipIf(harness.skip === true)(`workflow runner on ${name}`, () => {
    const running: WorkflowRunner[] = [];
    afterEach(async () => {
      await Promise.all(running.splice(0).map((r) => r.stop()));
    });

    const setup = async () => {
      const { store, timers } = await harness.create();
      const clock = manualClock();
      const start = (
        before?: (command: { type: string; id: string }) => void | Promise<void>,
        extra: {
          onPoison?: 'park' | 'stop';
          retry?: { maxAttempts: number };
          autoFireTimers?: boolean;
        } = {},
      ): WorkflowRunner => {
        const runner = runWorkflow({
          store,
          workflow: paymentWorkflow,
          commands: orderCommandHandlers(store, before),
          timers,
          now: clock.now,
          retry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 5 },
          ...extra,
        });
        running.push(runner);
        return runner;
      };
      const append = async (streamId: string, event: { type: string; data: unknown }) => {
        const { lastPosition } = await store.appendToStream(streamId, [event]);
        return lastPosition;
      };
      return { store, timers, clock, start, append };
    };

    it('turns an input into its outputs, recorded in the instance stream with what caused them', async () => {
      const { store, timers, start, append, clock } = await setup();
      const runner = start();
      await runner.waitFor(await append('shop-1', placed('o1')));

      expect(await orderEffects(store, 'o1')).toEqual(['StockReserved']);
      expect((await store.readStream('notices-o1')).map((e) => e.type)).toEqual([
        'PaymentRequested',
      ]);
      const view = await readWorkflowInstance(store, paymentWorkflow, 'o1');
      expect(view.state).toEqual({ status: 'placed' });
      expect(view.inputs.map((i) => [i.input.type, i.outputs.map((o) => o.kind)])).toEqual([
        ['OrderPlaced', ['command', 'event', 'schedule']],
      ]);
      expect(view.timers).toEqual([
        expect.objectContaining({
          timerId: 'payment-timeout',
          dueAt: new Date(clock.now().getTime() + PAYMENT_TIMEOUT_MS),
        }),
      ]);
      const indexed = await createWorkflowTimerIndex(timers).list('payment', 'o1');
      expect(indexed.map((t) => t.scheduleId)).toEqual(view.timers.map((t) => t.scheduleId));
    });

    it('acts once on a redelivered input, however often it comes back', async () => {
      const { store, timers, start, append, clock } = await setup();
      const runner = start();
      await runner.waitFor(await append('shop-1', placed('o1')));
      const [event] = await store.readStream('shop-1');
      const again = createWorkflowProcessor(paymentOptions(store, timers, clock.now));
      const results = await Promise.all([
        again.handle(event as RecordedEvent),
        again.handle(event as RecordedEvent),
      ]);
      expect(results.map((r) => r.outcome)).toEqual(['redelivered', 'redelivered']);
      await runner.stop();
      await store.checkpoints.reset('workflow-payment');
      const replay = start();
      await replay.waitFor(await store.headPosition());

      expect(await orderEffects(store, 'o1')).toEqual(['StockReserved']);
      expect(await store.readStream('notices-o1')).toHaveLength(1);
      const view = await readWorkflowInstance(store, paymentWorkflow, 'o1');
      expect(view.inputs).toHaveLength(1);
    });

    it('completes the effects of an input exactly once after a crash between recording and dispatching', async () => {
      const { store, start, append } = await setup();
      const failing = start(
        () => {
          throw new Error('the process died here');
        },
        { onPoison: 'stop', retry: { maxAttempts: 1 } },
      );
      await append('shop-1', placed('o1'));
      await expect(failing.done).rejects.toThrow(/the process died here/);
      expect(await orderEffects(store, 'o1')).toEqual([]);
      expect((await readWorkflowInstance(store, paymentWorkflow, 'o1')).inputs).toHaveLength(1);

      const restarted = start();
      await restarted.waitFor(await store.headPosition());
      expect(await orderEffects(store, 'o1')).toEqual(['StockReserved']);
      expect((await readWorkflowInstance(store, paymentWorkflow, 'o1')).inputs).toHaveLength(1);
    });

    it('applies a command once when the handler acted but the crash came before the checkpoint', async () => {
      const { store, start, append } = await setup();
      let crashes = 1;
      const runner = start();
      await runner.waitFor(await append('shop-1', placed('o1')));
      await runner.stop();
      // As if the process died after the effect, before the checkpoint moved past the input.
      await store.checkpoints.reset('workflow-payment');
      const second = start(() => {
        if (crashes-- > 0) throw new Error('crash after the effect');
      });
      await second.waitFor(await store.headPosition());
      expect(await orderEffects(store, 'o1')).toEqual(['StockReserved']);
    });

    it('completes every effect once when the store fails while the effects are dispatched', async () => {
      const { store, timers, append, clock } = await setup();
      // The store refuses the first append of the event output and the first timer index write.
      let storeFailures = 1;
      let indexFailures = 1;
      const flaky = new Proxy(store, {
        get(target, key, receiver) {
          const value = Reflect.get(target, key, receiver) as unknown;
          if (key !== 'appendToStream' || typeof value !== 'function') {
            return typeof value === 'function' ? (value.bind(target) as unknown) : value;
          }
          return (streamId: string, ...rest: unknown[]) => {
            if (streamId.startsWith('notices-') && storeFailures-- > 0) {
              return Promise.reject(new Error('store unavailable for a moment'));
            }
            return (value as (...args: unknown[]) => unknown).call(target, streamId, ...rest);
          };
        },
      });
      const flakyTimers: DocumentStore = {
        get: (c, id) => timers.get(c, id),
        find: (c, f, o) => timers.find(c, f, o),
        delete: (c, id) => timers.delete(c, id),
        put: (c, id, doc) =>
          indexFailures-- > 0
            ? Promise.reject(new Error('index write failed'))
            : timers.put(c, id, doc),
      };
      const runner = runWorkflow({
        store: flaky,
        workflow: paymentWorkflow,
        commands: orderCommandHandlers(store),
        timers: flakyTimers,
        now: clock.now,
        retry: { maxAttempts: 5, initialDelayMs: 1, maxDelayMs: 5 },
        onPoison: 'stop',
      });
      running.push(runner);
      await runner.waitFor(await append('shop-1', placed('o1')));

      expect(storeFailures).toBeLessThan(0);
      expect(indexFailures).toBeLessThan(0);
      expect(await orderEffects(store, 'o1')).toEqual(['StockReserved']);
      expect(await store.readStream('notices-o1')).toHaveLength(1);
      expect(await createWorkflowTimerIndex(timers).list('payment', 'o1')).toHaveLength(1);
      expect((await readWorkflowInstance(store, paymentWorkflow, 'o1')).inputs).toHaveLength(1);
    });

    it('fires a timer scheduled before a restart after it, once', async () => {
      const { store, start, append, clock } = await setup();
      const first = start();
      await first.waitFor(await append('shop-1', placed('o1')));
      await first.stop();

      clock.advance(PAYMENT_TIMEOUT_MS - 1);
      const second = start();
      expect(await second.fireDueTimers()).toBe(0);
      clock.advance(1);
      await expect
        .poll(() => orderEffects(store, 'o1'))
        .toEqual(['StockReserved', 'OrderCancelled']);
      expect(await second.fireDueTimers()).toBe(0);
      expect(await orderEffects(store, 'o1')).toEqual(['StockReserved', 'OrderCancelled']);
      const view = await readWorkflowInstance(store, paymentWorkflow, 'o1');
      expect(view.state).toEqual({ status: 'timed-out' });
      expect(view.timers).toEqual([]);
      expect(view.inputs.map((i) => [i.input.type, i.input.source.kind])).toEqual([
        ['OrderPlaced', 'event'],
        ['PaymentTimedOut', 'timer'],
      ]);
    });

    it('never fires a cancelled timer', async () => {
      const { store, timers, start, append, clock } = await setup();
      const runner = start();
      await runner.waitFor(await append('shop-1', placed('o1')));
      await runner.waitFor(await append('shop-1', paid('o1')));
      clock.advance(PAYMENT_TIMEOUT_MS * 10);
      expect(await runner.fireDueTimers()).toBe(0);

      expect(await orderEffects(store, 'o1')).toEqual(['StockReserved', 'OrderShipped']);
      expect(await createWorkflowTimerIndex(timers).list('payment')).toEqual([]);
      expect((await readWorkflowInstance(store, paymentWorkflow, 'o1')).timers).toEqual([]);
    });

    it('fires a stale index entry into nothing: the cancel recorded before a crash wins', async () => {
      const { store, timers, start, append, clock } = await setup();
      const runner = start();
      await runner.waitFor(await append('shop-1', placed('o1')));
      const index = createWorkflowTimerIndex(timers);
      const [entry] = await index.list('payment', 'o1');
      await runner.waitFor(await append('shop-1', paid('o1')));
      // The crash: the cancel is recorded, but its index entry came back (or was never removed).
      await index.put(entry as NonNullable<typeof entry>);
      clock.advance(PAYMENT_TIMEOUT_MS);
      expect(await runner.fireDueTimers()).toBe(0);

      expect(await orderEffects(store, 'o1')).toEqual(['StockReserved', 'OrderShipped']);
      expect(await index.list('payment')).toEqual([]);
    });

    it('fires a timer once when two runners fire it at the same time', async () => {
      const { store, start, append, clock } = await setup();
      const a = start();
      await a.waitFor(await append('shop-1', placed('o1')));
      const b = start();
      clock.advance(PAYMENT_TIMEOUT_MS);
      const fired = await Promise.all([a.fireDueTimers(), b.fireDueTimers()]);
      expect(fired[0] + fired[1]).toBeLessThanOrEqual(1);
      await expect
        .poll(() => orderEffects(store, 'o1'))
        .toEqual(['StockReserved', 'OrderCancelled']);
    });

    it('ends with the expected effects under random inputs, redeliveries, restarts and clock moves', async () => {
      type Op =
        | { op: 'place'; order: number }
        | { op: 'pay'; order: number }
        | { op: 'advance'; ms: number }
        | { op: 'fire' }
        | { op: 'redeliver'; pick: number }
        | { op: 'restart'; replay: boolean };
      const order = fc.integer({ min: 0, max: 3 });
      const ops = fc.array(
        fc.oneof(
          order.map((o): Op => ({ op: 'place', order: o })),
          order.map((o): Op => ({ op: 'pay', order: o })),
          fc.integer({ min: 0, max: PAYMENT_TIMEOUT_MS }).map((ms): Op => ({ op: 'advance', ms })),
          fc.constant<Op>({ op: 'fire' }),
          fc.nat().map((pick): Op => ({ op: 'redeliver', pick })),
          fc.boolean().map((replay): Op => ({ op: 'restart', replay })),
        ),
        { maxLength: harness.propertySteps ?? 25 },
      );
      await fc.assert(
        fc.asyncProperty(ops, async (schedule) => {
          const { store, timers, start, append, clock } = await setup();
          const model = new Map<string, { due: number; state: 'placed' | 'paid' | 'timed-out' }>();
          const expected = new Map<string, string[]>();
          const effect = (id: string, type: string) =>
            expected.set(id, [...(expected.get(id) ?? []), type]);
          const manual = { autoFireTimers: false };
          let runner = start(undefined, manual);
          const inputs: RecordedEvent[] = [];
          const redeliverer = createWorkflowProcessor(paymentOptions(store, timers, clock.now));
          for (const step of schedule) {
            switch (step.op) {
              case 'place': {
                const id = `o${step.order}`;
                await runner.waitFor(await append(`shop-${id}`, placed(id)));
                if (!model.has(id)) {
                  model.set(id, {
                    due: clock.now().getTime() + PAYMENT_TIMEOUT_MS,
                    state: 'placed',
                  });
                  effect(id, 'StockReserved');
                }
                break;
              }
              case 'pay': {
                const id = `o${step.order}`;
                const m = model.get(id);
                if (m === undefined) break;
                await runner.waitFor(await append(`shop-${id}`, paid(id)));
                if (m.state === 'placed') {
                  m.state = 'paid';
                  effect(id, 'OrderShipped');
                }
                break;
              }
              case 'advance':
                clock.advance(step.ms);
                break;
              case 'fire':
                await runner.fireDueTimers();
                for (const [id, m] of model) {
                  if (m.state === 'placed' && m.due <= clock.now().getTime()) {
                    m.state = 'timed-out';
                    effect(id, 'OrderCancelled');
                  }
                }
                break;
              case 'redeliver': {
                inputs.splice(
                  0,
                  inputs.length,
                  ...(await store.readAll()).filter((e) =>
                    paymentWorkflow.inputs.includes(e.type as never),
                  ),
                );
                const event = inputs[step.pick % Math.max(1, inputs.length)];
                if (event !== undefined) await redeliverer.handle(event);
                break;
              }
              case 'restart':
                await runner.stop();
                if (step.replay) await store.checkpoints.reset('workflow-payment');
                runner = start(undefined, manual);
                await runner.waitFor(await store.headPosition());
                break;
            }
          }
          // Nothing was cancelled that the model let fire, nor the other way round.
          for (const [id] of model) expect(await orderEffects(store, id)).toEqual(expected.get(id));
          await runner.stop();
        }),
        // A loaded shared service (the MongoDB stand-in) may make a run take seconds: stop
        // starting new runs after a time budget rather than time out mid-run.
        { numRuns: harness.propertyRuns ?? 25, interruptAfterTimeLimit: 90_000 },
      );
    }, 180_000);
  });
}
