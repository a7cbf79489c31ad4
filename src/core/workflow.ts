import type { DomainEvent } from './decider.js';
import { ValidationError } from './errors.js';
import { checkFunction, checkKnownKeys, checkObject, checkStoredName } from './optionChecks.js';
import type { EventMetadata } from './types.js';
import { describe } from './validation.js';

/** Where an input came from: an event in the store (or on Kafka), or one of the workflow's timers. */
export type WorkflowInputSource =
  | { kind: 'event'; streamId: string; position?: number }
  | { kind: 'timer'; timerId: string; scheduleId: string };

/**
 * What `evolve` and `decide` receive: the input event's `type` and `data` (so a function typed
 * against your event union works), plus its `id`, `metadata` and where it came from.
 */
export type WorkflowInput<Input extends DomainEvent = DomainEvent> = Input & {
  /** The input event's id; for a timer, an id derived from the schedule. */
  id: string;
  metadata: EventMetadata;
  source: WorkflowInputSource;
};

/** A pending timer of one instance, as `decide` sees it in `context.timers`. */
export interface WorkflowTimer<Input extends DomainEvent = DomainEvent> {
  timerId: string;
  /** Id of the `WorkflowTimerScheduled` record: each (re)schedule gets a new one. */
  scheduleId: string;
  dueAt: Date;
  message: Input;
}

export interface WorkflowDecideContext<Input extends DomainEvent = DomainEvent> {
  /** The instance (correlation id) `instanceOf` returned. */
  instanceId: string;
  /** The workflow's clock at the decision (injectable in the runner and the specification). */
  now: Date;
  /** The instance's pending timers, by timer id. */
  timers: ReadonlyMap<string, WorkflowTimer<Input>>;
}

/**
 * What `decide` returns, in order:
 * - `command`: handed to `commands[type]` of the runner with an id derived from the input's id
 *   (use it as the command handler's `idempotencyKey`): at-least-once dispatch, one effect.
 * - `event`: appended by the runner to `stream` with a derived id (an idempotent append).
 * - `schedule`: a durable timer; at `at`, or `afterMs` after `context.now`, `message` comes
 *   back to this instance as an input. Scheduling a pending `timerId` again replaces it.
 * - `cancel`: the pending timer `timerId` never fires (nothing happens when none is pending).
 */
export type WorkflowOutput<
  Input extends DomainEvent = DomainEvent,
  Command extends DomainEvent = DomainEvent,
  Event extends DomainEvent = DomainEvent,
> =
  | (Command & { kind: 'command'; target?: string; metadata?: EventMetadata })
  | (Event & { kind: 'event'; stream: string; metadata?: EventMetadata })
  | { kind: 'schedule'; timerId: string; at: Date | string; message: Input }
  | { kind: 'schedule'; timerId: string; afterMs: number; message: Input }
  | { kind: 'cancel'; timerId: string };

/**
 * A process manager. Pure functions only: the runner records each input and the outputs it
 * caused in the instance's stream (`workflow-<name>-<instanceId>`), so state is a fold of the
 * inputs handled, a redelivered input yields nothing new, and the outputs are replayed from the
 * record (not decided again) when their dispatch has to be retried.
 */
export interface Workflow<
  State,
  Input extends DomainEvent = DomainEvent,
  Command extends DomainEvent = DomainEvent,
  Event extends DomainEvent = DomainEvent,
> {
  /** Durable name: the instance streams, the subscription and the timers are named after it. */
  readonly name: string;
  /** Event types the workflow reacts to (timer messages come back without being listed). */
  readonly inputs: readonly Input['type'][];
  /** The instance (correlation id) an input belongs to; `undefined` ignores the input. */
  instanceOf(input: WorkflowInput<Input>): string | undefined;
  initialState(): State;
  /** Folds one handled input into the state (timer messages included). */
  evolve(state: State, input: WorkflowInput<Input>): State;
  decide(
    input: WorkflowInput<Input>,
    state: State,
    context: WorkflowDecideContext<Input>,
  ):
    | readonly WorkflowOutput<Input, Command, Event>[]
    | Promise<readonly WorkflowOutput<Input, Command, Event>[]>;
  /**
   * The part of an input's `data` kept in the instance stream, which is also what `evolve`
   * sees (`decide` sees the whole input). Default: all of it. The instance stream is not
   * covered by personal-data declarations of the input's type, so leave out personal fields
   * the state does not need.
   */
  recordedData?(input: WorkflowInput<Input>): unknown;
}

/** The state type of a workflow. */
export type WorkflowState<W> =
  W extends Workflow<infer S, infer _I, infer _C, infer _E> ? S : never;
/** The input event type of a workflow. */
export type WorkflowInputOf<W> =
  W extends Workflow<infer _S, infer I, infer _C, infer _E> ? I : never;
/** The command type of a workflow. */
export type WorkflowCommandOf<W> =
  W extends Workflow<infer _S, infer _I, infer C, infer _E> ? C : never;

const WORKFLOW_KEYS = [
  'name',
  'inputs',
  'instanceOf',
  'initialState',
  'evolve',
  'decide',
  'recordedData',
];

/**
 * Checks a workflow definition and returns it (typed). Throws `ValidationError` naming the
 * field when something is missing or malformed.
 *
 * @example
 * const payment = defineWorkflow<PaymentState, OrderEvent, OrderCommand>({
 *   name: 'payment',
 *   inputs: ['OrderPlaced', 'OrderPaid'],
 *   instanceOf: (input) => (input.data as { orderId?: string }).orderId,
 *   initialState: () => ({ status: 'new' }),
 *   evolve: (state, input) => (input.type === 'OrderPaid' ? { status: 'paid' } : state),
 *   decide(input, state) {
 *     if (input.type === 'OrderPlaced')
 *       return [{ kind: 'schedule', timerId: 'timeout', afterMs: 900_000,
 *                 message: { type: 'PaymentTimedOut', data: { orderId: input.data.orderId } } }];
 *     if (input.type === 'OrderPaid') return [{ kind: 'cancel', timerId: 'timeout' }];
 *     return state.status === 'paid' ? [] :
 *       [{ kind: 'command', type: 'CancelOrder', data: { orderId: input.data.orderId } }];
 *   },
 * });
 */
export function defineWorkflow<
  State,
  Input extends DomainEvent = DomainEvent,
  Command extends DomainEvent = DomainEvent,
  Event extends DomainEvent = DomainEvent,
>(definition: Workflow<State, Input, Command, Event>): Workflow<State, Input, Command, Event> {
  checkWorkflow(definition, 'workflow');
  return definition;
}

/** Checks the shape of a workflow definition (also done by the runners). */
export function checkWorkflow(value: unknown, path: string): void {
  checkObject(value, path, '{ name, inputs, instanceOf, initialState, evolve, decide }', true);
  const w = value as Record<string, unknown>;
  checkKnownKeys(w, path, WORKFLOW_KEYS);
  checkStoredName(w.name, `${path}.name`, 'instance streams and timers are stored under it');
  if (!/^[A-Za-z0-9_.]+$/.test(w.name as string)) {
    throw new ValidationError(
      `${path}.name`,
      `must be letters, digits, '_' or '.' (it names the stream category 'workflow-<name>'); got ${describe(w.name)}`,
    );
  }
  const inputs = w.inputs;
  if (
    !Array.isArray(inputs) ||
    inputs.length === 0 ||
    !inputs.every((t) => typeof t === 'string' && t.length > 0)
  ) {
    throw new ValidationError(
      `${path}.inputs`,
      `must be a non-empty array of event type names; got ${describe(inputs)}`,
    );
  }
  checkFunction(w.instanceOf, `${path}.instanceOf`, '(input) => string | undefined', true);
  checkFunction(w.initialState, `${path}.initialState`, '() => state', true);
  checkFunction(w.evolve, `${path}.evolve`, '(state, input) => state', true);
  checkFunction(w.decide, `${path}.decide`, '(input, state, context) => outputs[]', true);
  checkFunction(w.recordedData, `${path}.recordedData`, '(input) => data');
}

/** The stream that holds one instance's inputs, outputs and timers. */
export function workflowStreamId(workflowName: string, instanceId: string): string {
  return `workflow-${workflowName}-${instanceId}`;
}
