import type { DomainEvent } from './decider.js';
import { checkKnownKeys, checkPort } from './optionChecks.js';
import { checkRunOptions } from './subscriptionOptions.js';
import type {
  CheckpointStore,
  PoisonPolicy,
  RetryPolicy,
  Subscription,
  SubscriptionNotice,
  SubscriptionStart,
  SubscriptionStatus,
} from './types.js';
import {
  checkProcessorOptions,
  createWorkflowProcessor,
  type WorkflowProcessorOptions,
} from './workflowProcessor.js';
import {
  resolveTimerLoopOptions,
  startWorkflowTimerLoop,
  WORKFLOW_TIMER_KEYS,
  type WorkflowTimerFailure,
  type WorkflowTimerSettings,
} from './workflowTimerLoop.js';

export interface RunWorkflowOptions<
  State,
  Input extends DomainEvent = DomainEvent,
  Command extends DomainEvent = DomainEvent,
  Event extends DomainEvent = DomainEvent,
>
  extends WorkflowProcessorOptions<State, Input, Command, Event>, WorkflowTimerSettings {
  /** The subscription's durable name. Default `workflow-<name>`. */
  subscription?: string;
  /** Where a first run starts. Default `'start'`. */
  from?: SubscriptionStart;
  /** Retries of an input whose handling failed (a command handler threw, the store failed). */
  retry?: RetryPolicy;
  /** After `retry.maxAttempts`: `'park'` the input (see `store.checkpoints.listParked`) or `'stop'` the runner. Default `'park'`. */
  onPoison?: PoisonPolicy;
  /** Keep the subscription's checkpoint elsewhere than `store.checkpoints`. */
  checkpoints?: CheckpointStore;
  /** Every observable thing: the subscription's notices and failed timer passes. */
  onEvent?: (notice: WorkflowNotice) => void;
}

export type WorkflowNotice = SubscriptionNotice | WorkflowTimerFailure;

export interface WorkflowRunner {
  readonly workflow: string;
  /** The store subscription that delivers the inputs. */
  readonly subscription: Subscription;
  status(): SubscriptionStatus;
  /** Resolves once every event up to `position` of the store was handled. */
  waitFor(position: number, timeoutMs?: number): Promise<void>;
  /** Fires the timers due now, without waiting for the loop; resolves with how many fired. */
  fireDueTimers(): Promise<number>;
  /** Finishes the input in hand, stores the checkpoint, stops the timer loop. */
  stop(): Promise<void>;
  /** Settles when the input subscription stops: rejects if it stopped on an error. */
  readonly done: Promise<void>;
}

const RUN_KEYS = [
  'store',
  'workflow',
  'commands',
  'timers',
  'now',
  'subscription',
  'from',
  'retry',
  'onPoison',
  'checkpoints',
  'onEvent',
  ...WORKFLOW_TIMER_KEYS,
];

/**
 * Runs a workflow in this process on a store subscription (every store), restart-safe: the
 * subscription's checkpoint moves past an input only once its outputs are recorded and
 * dispatched, and timers live in `timers` (a document store), so a restart resumes both.
 *
 * @example
 * const runner = runWorkflow({
 *   store, workflow: payment, timers: store.documents.async,
 *   commands: { CancelOrder: (c) => handleOrder(c.data.orderId, c, { idempotencyKey: c.id }) },
 * });
 * // … later
 * await runner.stop();
 */
export function runWorkflow<
  State,
  Input extends DomainEvent,
  Command extends DomainEvent,
  Event extends DomainEvent,
>(options: RunWorkflowOptions<State, Input, Command, Event>): WorkflowRunner {
  const raw = options as unknown as Record<string, unknown>;
  checkProcessorOptions(raw, 'options');
  checkPort(options.store, 'options.store', ['appendToStream', 'readStream', 'subscribe']);
  checkKnownKeys(raw, 'options', RUN_KEYS);
  checkRunOptions(raw, 'options');
  const loopOptions = resolveTimerLoopOptions(options, 'options', (failure) => emit(failure));
  const processor = createWorkflowProcessor(options);
  const emit = (notice: WorkflowNotice): void => {
    try {
      options.onEvent?.(notice);
    } catch {
      // An observer must not break the runner.
    }
  };
  const subscription = options.store.subscribe({
    name: options.subscription ?? `workflow-${options.workflow.name}`,
    eventTypes: options.workflow.inputs,
    from: options.from ?? 'start',
    onPoison: options.onPoison ?? 'park',
    ...(options.retry === undefined ? {} : { retry: options.retry }),
    ...(options.checkpoints === undefined ? {} : { checkpoints: options.checkpoints }),
    onEvent: emit,
    handler: async (event) => {
      await processor.handle(event);
    },
  });
  const timers = startWorkflowTimerLoop(processor, loopOptions);
  // The inputs are the runner: when they stop on an error, the timers stop too.
  const done = subscription.done.finally(() => timers.stop());
  done.catch(() => undefined);

  return {
    workflow: options.workflow.name,
    subscription,
    done,
    status: () => subscription.status(),
    waitFor: (position, timeoutMs) => subscription.waitFor(position, timeoutMs),
    fireDueTimers: () => timers.fireDue(),
    async stop() {
      await Promise.all([subscription.stop(), timers.stop()]);
    },
  };
}
