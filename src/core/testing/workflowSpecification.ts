import type { DomainEvent } from '../decider.js';
import type { EventMetadata } from '../types.js';
import type { Workflow, WorkflowInput, WorkflowOutput } from '../workflow.js';
import {
  applyRecord,
  decideRecords,
  emptyFold,
  type InstanceFold,
  timerInputId,
  toWorkflowRecord,
  wasHandled,
} from '../workflowInstance.js';
import type { ErrorExpectation } from './deciderSpecification.js';
import {
  failureOf,
  describeExpectation,
  errorMismatch,
  firstDifference,
  show,
  showError,
} from './specificationAssertions.js';

/** An input as a test gives it: the event's `type` and `data`, optionally its id and metadata. */
export type GivenInput<Input extends DomainEvent> = Input & {
  id?: string;
  metadata?: EventMetadata;
};

/** A step of the history: an input, or the clock moving on (firing the timers due by then). */
export type WorkflowHistoryStep<Input extends DomainEvent> =
  GivenInput<Input> | { advanceMs: number };

export interface WorkflowSpecificationOptions {
  /** The clock at the start of the history. Default 2030-01-01T00:00:00Z. */
  start?: Date | string;
}

export interface WorkflowSpecificationGiven<
  State,
  Input extends DomainEvent,
  Output,
> extends WorkflowSpecificationWhen<State, Input, Output> {
  /** What the instance already handled, oldest first (inputs and clock moves). */
  given(
    history: WorkflowHistoryStep<Input> | readonly WorkflowHistoryStep<Input>[],
  ): WorkflowSpecificationWhen<State, Input, Output>;
}

export interface WorkflowSpecificationWhen<State, Input extends DomainEvent, Output> {
  /** The input under test. */
  when(input: GivenInput<Input>): WorkflowSpecificationThen<State, Input, Output>;
  /** The clock moves on by `ms`: the timers due by then fire, in due order, as the step under test. */
  whenTimeAdvances(ms: number): WorkflowSpecificationThen<State, Input, Output>;
}

/**
 * The assertions; each returns a promise to await. Do not `await` the object itself.
 */
export interface WorkflowSpecificationThen<State, Input extends DomainEvent, Output> {
  /** The step's `decide` calls returned exactly these outputs (deep equality, in order). */
  then(expected: readonly Output[]): Promise<void>;
  /** The step caused no output (or its input was ignored). */
  thenNothingHappened(): Promise<void>;
  /** The state after the step. */
  thenState(expected: State): Promise<void>;
  /** The pending timers after the step, earliest first: `timerId`, `dueAt` and `message`. */
  thenTimers(
    expected: readonly { timerId: string; dueAt: Date | string; message?: Input }[],
  ): Promise<void>;
  /** A `decide` (or a malformed output) threw, matching `expected` when given. */
  thenThrows(expected?: ErrorExpectation): Promise<void>;
}

interface Outcome<State, Input extends DomainEvent> {
  outputs: unknown[];
  fold: InstanceFold<State, Input>;
}

const DEFAULT_START = '2030-01-01T00:00:00Z';
const MAX_FIRINGS_PER_STEP = 10_000;

/**
 * Given/when/then for workflows, independent of the test framework, with a clock you move:
 * the history runs through the same recording and timer logic as the runners (without a
 * store), so a test sees what a runner would do. A mismatch throws an `AssertionError` naming
 * the first difference.
 *
 * @example
 * const spec = WorkflowSpecification.for(paymentWorkflow);
 * it('cancels an order not paid in time', () =>
 *   spec
 *     .given([{ type: 'OrderPlaced', data: { orderId: 'o1' } }])
 *     .whenTimeAdvances(15 * 60_000)
 *     .then([{ kind: 'command', type: 'CancelOrder', data: { orderId: 'o1' } }]));
 */
export const WorkflowSpecification = {
  for<State, Input extends DomainEvent, Command extends DomainEvent, Event extends DomainEvent>(
    workflow: Workflow<State, Input, Command, Event>,
    options: WorkflowSpecificationOptions = {},
  ): WorkflowSpecificationGiven<State, Input, WorkflowOutput<Input, Command, Event>> {
    const start = new Date(options.start ?? DEFAULT_START);
    const make = (history: readonly WorkflowHistoryStep<Input>[]) => ({
      when: (input: GivenInput<Input>) =>
        assertions<State, Input, WorkflowOutput<Input, Command, Event>>(() =>
          run(workflow as never, start, history, input),
        ),
      whenTimeAdvances: (ms: number) =>
        assertions<State, Input, WorkflowOutput<Input, Command, Event>>(() =>
          run(workflow as never, start, history, { advanceMs: ms }),
        ),
    });
    return {
      ...make([]),
      given: (history) =>
        make(
          Array.isArray(history)
            ? (history as readonly WorkflowHistoryStep<Input>[])
            : [history as WorkflowHistoryStep<Input>],
        ),
    };
  },
};

/** Runs the history, then the step under test; resolves with the step's outputs and the fold. */
async function run<State, Input extends DomainEvent>(
  workflow: Workflow<State, Input, DomainEvent, DomainEvent>,
  start: Date,
  history: readonly WorkflowHistoryStep<Input>[],
  step: WorkflowHistoryStep<Input>,
): Promise<Outcome<State, Input>> {
  let now = start.getTime();
  let fold: InstanceFold<State, Input> | undefined;
  let outputs: unknown[] = [];
  // Captures what decide returned, to compare the outputs as the workflow wrote them.
  const recording: Workflow<State, Input, DomainEvent, DomainEvent> = {
    ...workflow,
    async decide(input, state, context) {
      const result = await workflow.decide(input, state, context);
      if (Array.isArray(result)) outputs.push(...(result as unknown[]));
      return result;
    },
  };
  const handle = async (input: WorkflowInput<Input>, instanceId: string): Promise<void> => {
    fold ??= emptyFold(recording, instanceId);
    // A redelivery (an id given twice) is recognised as the runners recognise it: no outputs.
    if (wasHandled(fold, input.id)) return;
    const records = await decideRecords(recording, fold, input, new Date(now));
    for (const record of records) {
      applyRecord(recording, fold, toWorkflowRecord(record as never) as never);
    }
    fold.version += records.length;
  };
  let count = 0;
  const perform = async (s: WorkflowHistoryStep<Input>): Promise<void> => {
    if ('advanceMs' in s && typeof s.advanceMs === 'number') {
      now += s.advanceMs;
      for (let fired = 0; ; fired++) {
        if (fired > MAX_FIRINGS_PER_STEP) {
          throw new Error(
            `WorkflowSpecification: more than ${MAX_FIRINGS_PER_STEP} timers fired in one clock move; does the workflow reschedule a timer that is already due?`,
          );
        }
        const current = fold;
        const due = current === undefined ? [] : [...current.timers.values()];
        const next = due
          .filter((t) => t.dueAt.getTime() <= now)
          .sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime())[0];
        if (current === undefined || next === undefined) return;
        const id = timerInputId(current.streamId, next.scheduleId);
        await handle(
          {
            ...next.message,
            id,
            metadata: {},
            source: { kind: 'timer', timerId: next.timerId, scheduleId: next.scheduleId },
          },
          current.instanceId,
        );
      }
    }
    const given = s as GivenInput<Input>;
    const input = {
      ...given,
      id: given.id ?? `input-${++count}`,
      metadata: given.metadata ?? {},
      source: { kind: 'event', streamId: 'test' },
    } as WorkflowInput<Input>;
    if (!workflow.inputs.includes(input.type)) return;
    const instanceId = workflow.instanceOf(input);
    if (instanceId === undefined) return;
    await handle(input, instanceId);
  };
  for (const s of history) await perform(s);
  outputs = [];
  await perform(step);
  return { outputs, fold: fold ?? emptyFold(recording, 'unknown') };
}

function assertions<State, Input extends DomainEvent, Output>(
  run: () => Promise<Outcome<State, Input>>,
): WorkflowSpecificationThen<State, Input, Output> {
  const settled = async (what: string): Promise<Outcome<State, Input>> => {
    try {
      return await run();
    } catch (error) {
      throw failure(
        `Expected ${what}, but the workflow threw ${showError(error)}`,
        what,
        error,
        error,
      );
    }
  };
  const compare = (label: string, expected: unknown, actual: unknown): void => {
    const difference = firstDifference(expected, actual, label);
    if (difference !== undefined) {
      throw failure(
        `Expected the ${label} to match.\n  ${difference}\n\nExpected:\n${show(expected)}\n\nReceived:\n${show(actual)}`,
        expected,
        actual,
      );
    }
  };
  return {
    async then(expected) {
      if (typeof expected === 'function') {
        throw new TypeError(
          'WorkflowSpecification: the result of .when(...) was awaited or used as a promise; call .then(expectedOutputs) (or another .then… assertion) and await that instead',
        );
      }
      compare('outputs', expected, (await settled('outputs')).outputs);
    },
    async thenNothingHappened() {
      compare('outputs', [], (await settled('no outputs')).outputs);
    },
    async thenState(expected) {
      compare('state', expected, (await settled('a state')).fold.state);
    },
    async thenTimers(expected) {
      const { fold } = await settled('pending timers');
      const pending = [...fold.timers.values()]
        .sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime())
        .map((t, i) => ({
          timerId: t.timerId,
          dueAt: t.dueAt,
          ...(expected[i]?.message === undefined ? {} : { message: t.message }),
        }));
      compare(
        'timers',
        expected.map((t) => ({ ...t, dueAt: new Date(t.dueAt) })),
        pending,
      );
    },
    async thenThrows(expected) {
      let outcome: Outcome<State, Input>;
      try {
        outcome = await run();
      } catch (error) {
        const mismatch = errorMismatch(expected, error);
        if (mismatch !== undefined) {
          throw failure(`Expected the workflow to throw ${mismatch}`, expected, error, error);
        }
        return;
      }
      throw failure(
        `Expected the workflow to throw ${describeExpectation(expected)}, but it returned:\n${show(outcome.outputs)}`,
        describeExpectation(expected),
        outcome.outputs,
      );
    },
  };
}

const failure = failureOf('WorkflowSpecification');
