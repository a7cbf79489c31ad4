import type { DecideResult, Decider, DomainEvent } from '../decider.js';
import {
  after,
  failureOf,
  describeExpectation,
  errorName,
  firstDifference,
  isErrorClass,
  isPromise,
  show,
  showError,
  inline,
} from './specificationAssertions.js';

/** `void` for a synchronous decider, a promise for an asynchronous one: always `await` it. */
export type SpecificationResult = void | Promise<void>;

/** An error class, an error `code` (e.g. `'COMMAND_REJECTED'`), or a predicate on the error. */
export type ErrorExpectation =
  string | (abstract new (...args: never[]) => Error) | ((error: unknown) => boolean);

export interface DeciderSpecificationGiven<State, Command, Event extends DomainEvent> {
  /** The events already in the stream, oldest first. */
  given(events: Event | readonly Event[]): DeciderSpecificationWhen<State, Command, Event>;
  /** The command, on a stream with no events. */
  when(command: Command): DeciderSpecificationThen<State, Event>;
}

export interface DeciderSpecificationWhen<State, Command, Event extends DomainEvent> {
  when(command: Command): DeciderSpecificationThen<State, Event>;
}

/**
 * The assertions. Do not `await` the object itself (it has a `then` method, so JavaScript
 * would treat it as a promise); await the result of one of these calls.
 */
export interface DeciderSpecificationThen<State, Event extends DomainEvent> {
  /** `decide` returned exactly these events (deep equality, in order). */
  then(expected: Event | readonly Event[]): SpecificationResult;
  /** `decide` returned no events. */
  thenNothingHappened(): SpecificationResult;
  /** `decide` threw, and the error matches `expected` when given. */
  thenThrows(expected?: ErrorExpectation): SpecificationResult;
  /** The state after folding the given and the decided events equals `expected`. */
  thenState(expected: State): SpecificationResult;
}

type Outcome<State, Event> =
  | { ok: true; events: Event[]; state: State; evolve: (state: State, event: Event) => State }
  | { ok: false; error: unknown };

/**
 * Given/when/then for deciders, independent of the test framework: a mismatch throws an
 * `AssertionError` whose message names the first difference and shows both sides (and whose
 * `expected`/`actual` let runners like vitest print a diff).
 *
 * @example
 * const spec = DeciderSpecification.for(bankAccount);
 * it('refuses to overdraw', () =>
 *   spec
 *     .given([{ type: 'AccountOpened', data: { owner: 'ada', overdraftLimit: 0 } }])
 *     .when({ type: 'Withdraw', amount: 10 })
 *     .thenThrows('COMMAND_REJECTED'));
 */
export const DeciderSpecification = {
  for<State, Command, Event extends DomainEvent>(
    decider: Decider<State, Command, Event>,
  ): DeciderSpecificationGiven<State, Command, Event> {
    const start = (history: readonly Event[]): DeciderSpecificationWhen<State, Command, Event> => ({
      when: (command) => assertions(decider, history, command),
    });
    return {
      given: (events) =>
        start(Array.isArray(events) ? (events as readonly Event[]) : [events as Event]),
      when: (command) => assertions(decider, [], command),
    };
  },
};

function assertions<State, Command, Event extends DomainEvent>(
  decider: Decider<State, Command, Event>,
  history: readonly Event[],
  command: Command,
): DeciderSpecificationThen<State, Event> {
  const run = (): Outcome<State, Event> | Promise<Outcome<State, Event>> => {
    // A throwing evolve on the given events is a broken test setup, not the outcome under test.
    const state = history.reduce((s, e) => decider.evolve(s, e), decider.initialState());
    const evolve = (s: State, e: Event): State => decider.evolve(s, e);
    let result: DecideResult<Event> | Promise<DecideResult<Event>>;
    try {
      result = decider.decide(command, state);
    } catch (error) {
      return { ok: false, error };
    }
    const settle = (r: DecideResult<Event>): Outcome<State, Event> => ({
      ok: true,
      events: Array.isArray(r) ? [...(r as readonly Event[])] : [r as Event],
      state,
      evolve,
    });
    return isPromise(result)
      ? result.then(settle, (error: unknown): Outcome<State, Event> => ({ ok: false, error }))
      : settle(result);
  };

  const expectEvents = (expected: readonly Event[]): SpecificationResult =>
    after(run(), (outcome) => {
      if (!outcome.ok) {
        throw failure(
          `Expected decide to return ${count(expected.length)}, but it threw ${showError(outcome.error)}`,
          expected,
          outcome.error,
          outcome.error,
        );
      }
      const difference = firstDifference(expected, outcome.events, 'events');
      if (difference !== undefined) {
        throw failure(
          `Expected decide to return ${count(expected.length)}, but it returned ${count(outcome.events.length)} that differ.\n  ${difference}\n\nExpected:\n${show(expected)}\n\nReceived:\n${show(outcome.events)}`,
          expected,
          outcome.events,
        );
      }
    });

  return {
    then(expected) {
      if (typeof expected === 'function') {
        throw new TypeError(
          'DeciderSpecification: the result of .when(...) was awaited or used as a promise; call .then(expectedEvents) (or another .then… assertion) and await that instead',
        );
      }
      return expectEvents(
        Array.isArray(expected) ? (expected as readonly Event[]) : [expected as Event],
      );
    },

    thenNothingHappened: () => expectEvents([]),

    thenThrows(expected) {
      return after(run(), (outcome) => {
        if (outcome.ok) {
          throw failure(
            `Expected decide to throw${expected === undefined ? '' : ` ${describeExpectation(expected)}`}, but it returned ${count(outcome.events.length)}:\n${show(outcome.events)}`,
            describeExpectation(expected),
            outcome.events,
          );
        }
        const { error } = outcome;
        if (expected === undefined) return;
        if (typeof expected === 'string') {
          const code = (error as { code?: unknown } | null)?.code;
          if (code !== expected) {
            throw failure(
              `Expected decide to throw an error with code '${expected}', but it threw ${showError(error)}${code === undefined ? ' (no code)' : ` with code ${typeof code === 'string' ? `'${code}'` : inline(code)}`}`,
              expected,
              code,
              error,
            );
          }
          return;
        }
        if (isErrorClass(expected)) {
          if (!(error instanceof expected)) {
            throw failure(
              `Expected decide to throw a ${expected.name}, but it threw ${showError(error)}`,
              expected.name,
              errorName(error),
              error,
            );
          }
          return;
        }
        if (!expected(error)) {
          throw failure(
            `Expected decide to throw an error matching the predicate, but it threw ${showError(error)}, which does not match`,
            'an error matching the predicate',
            error,
            error,
          );
        }
      });
    },

    thenState(expected) {
      return after(run(), (outcome) => {
        if (!outcome.ok) {
          throw failure(
            `Expected a state after the command, but decide threw ${showError(outcome.error)}`,
            expected,
            outcome.error,
            outcome.error,
          );
        }
        const state = outcome.events.reduce(outcome.evolve, outcome.state);
        const difference = firstDifference(expected, state, 'state');
        if (difference !== undefined) {
          throw failure(
            `Expected the state after the command to equal the expected state.\n  ${difference}\n\nExpected:\n${show(expected)}\n\nReceived:\n${show(state)}`,
            expected,
            state,
          );
        }
      });
    },
  };
}

const count = (n: number): string => (n === 1 ? '1 event' : `${n} events`);

const failure = failureOf('DeciderSpecification');
