import type { DecideResult, Decider, DomainEvent } from '../decider.js';

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

/** The error runners recognize as an assertion failure (and diff via expected/actual). */
class AssertionError extends Error {
  readonly expected: unknown;
  readonly actual: unknown;
  readonly showDiff = true;
  constructor(message: string, expected: unknown, actual: unknown, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'AssertionError';
    this.expected = expected;
    this.actual = actual;
  }
}

function failure(
  message: string,
  expected: unknown,
  actual: unknown,
  cause?: unknown,
): AssertionError {
  return new AssertionError(`DeciderSpecification: ${message}`, expected, actual, cause);
}

function after<T>(value: T | Promise<T>, check: (value: T) => void): SpecificationResult {
  return isPromise(value) ? value.then(check) : check(value);
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

function isErrorClass(value: unknown): value is abstract new (...args: never[]) => Error {
  return (
    typeof value === 'function' &&
    (value === Error || (value as { prototype?: unknown }).prototype instanceof Error)
  );
}

function describeExpectation(expected: ErrorExpectation | undefined): string {
  if (expected === undefined) return 'an error';
  if (typeof expected === 'string') return `an error with code '${expected}'`;
  if (isErrorClass(expected)) return `a ${expected.name}`;
  return 'an error matching the predicate';
}

const count = (n: number): string => (n === 1 ? '1 event' : `${n} events`);

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

function showError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return show(error);
}

/**
 * The path and both values of the first place where `actual` differs from `expected`, or
 * `undefined` when they are deeply equal. Properties holding `undefined` count as absent,
 * as they do once an event is stored as JSON.
 */
function firstDifference(expected: unknown, actual: unknown, path: string): string | undefined {
  if (Object.is(expected, actual)) return undefined;
  const mismatch = (): string =>
    `at ${path}: expected ${inline(expected)}, received ${inline(actual)}`;
  if (
    typeof expected !== 'object' ||
    typeof actual !== 'object' ||
    expected === null ||
    actual === null
  ) {
    return mismatch();
  }
  if (expected instanceof Date || actual instanceof Date) {
    return expected instanceof Date &&
      actual instanceof Date &&
      expected.getTime() === actual.getTime()
      ? undefined
      : mismatch();
  }
  if (Array.isArray(expected) !== Array.isArray(actual)) return mismatch();
  if (Array.isArray(expected) && Array.isArray(actual)) {
    const common = Math.min(expected.length, actual.length);
    for (let i = 0; i < common; i++) {
      const difference = firstDifference(expected[i], actual[i], `${path}[${i}]`);
      if (difference !== undefined) return difference;
    }
    if (expected.length !== actual.length) {
      const extra = expected.length > actual.length ? 'missing' : 'unexpected';
      const items = (expected.length > actual.length ? expected : actual).slice(common);
      return `at ${path}: expected ${expected.length} items, received ${actual.length}; ${extra}: ${inline(items)}`;
    }
    return undefined;
  }
  if (Object.getPrototypeOf(expected) !== Object.getPrototypeOf(actual)) {
    return `at ${path}: expected ${kind(expected)}, received ${kind(actual)}`;
  }
  if (expected instanceof Map && actual instanceof Map) {
    return firstDifference(
      Object.fromEntries([...expected].map(([k, v]) => [String(k), v as unknown])),
      Object.fromEntries([...actual].map(([k, v]) => [String(k), v as unknown])),
      path,
    );
  }
  if (expected instanceof Set && actual instanceof Set) {
    return firstDifference([...expected], [...actual], path);
  }
  const e = expected as Record<string, unknown>;
  const a = actual as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(e), ...Object.keys(a)])].sort();
  for (const key of keys) {
    const at = /^[A-Za-z_$][\w$]*$/.test(key)
      ? `${path}.${key}`
      : `${path}[${JSON.stringify(key)}]`;
    if (e[key] !== undefined && a[key] === undefined)
      return `at ${at}: expected ${inline(e[key])}, but it is missing`;
    if (e[key] === undefined && a[key] !== undefined)
      return `at ${at}: unexpected ${inline(a[key])}`;
    const difference = firstDifference(e[key], a[key], at);
    if (difference !== undefined) return difference;
  }
  return undefined;
}

function kind(value: object): string {
  const name = (value as { constructor?: { name?: string } }).constructor?.name;
  return name === undefined || name === 'Object' ? 'a plain object' : `a ${name}`;
}

function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return `${value}n`;
  if (value instanceof Map) return Object.fromEntries(value);
  if (value instanceof Set) return [...value];
  if (value === undefined) return '<undefined>';
  return value;
}

/** JSON where possible; a short description of what JSON cannot show (cycles, functions…). */
function stringify(value: unknown, indent?: number): string {
  if (typeof value === 'function') return `[function ${value.name || 'anonymous'}]`;
  if (typeof value === 'symbol') return value.toString();
  try {
    const json = JSON.stringify(value, replacer, indent) as string | undefined;
    if (json !== undefined) return json;
  } catch {
    // Cycles end up here: fall through to a description.
  }
  return typeof value === 'object' && value !== null ? `[${kind(value)}]` : `${value as string}`;
}

function show(value: unknown): string {
  return stringify(value, 2)
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}

function inline(value: unknown): string {
  const text = value === undefined ? 'undefined' : stringify(value);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
