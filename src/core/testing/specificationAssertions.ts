// Assertion helpers the given/when/then specifications share (deciders, workflows).
import type { ErrorExpectation, SpecificationResult } from './deciderSpecification.js';

/** The error runners recognize as an assertion failure (and diff via expected/actual). */
export class AssertionError extends Error {
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

export function after<T>(value: T | Promise<T>, check: (value: T) => void): SpecificationResult {
  return isPromise(value) ? value.then(check) : check(value);
}

export function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

export function isErrorClass(value: unknown): value is abstract new (...args: never[]) => Error {
  return (
    typeof value === 'function' &&
    (value === Error || (value as { prototype?: unknown }).prototype instanceof Error)
  );
}

export function describeExpectation(expected: ErrorExpectation | undefined): string {
  if (expected === undefined) return 'an error';
  if (typeof expected === 'string') return `an error with code '${expected}'`;
  if (isErrorClass(expected)) return `a ${expected.name}`;
  return 'an error matching the predicate';
}

export function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

export function showError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return show(error);
}

/**
 * The path and both values of the first place where `actual` differs from `expected`, or
 * `undefined` when they are deeply equal. Properties holding `undefined` count as absent,
 * as they do once an event is stored as JSON.
 */
export function firstDifference(
  expected: unknown,
  actual: unknown,
  path: string,
): string | undefined {
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

export function show(value: unknown): string {
  return stringify(value, 2)
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}

export function inline(value: unknown): string {
  const text = value === undefined ? 'undefined' : stringify(value);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/**
 * Why `error` does not match `expected` ("an error with code 'X', but it threw …"), or
 * `undefined` when it matches (any error matches an `undefined` expectation).
 */
export function errorMismatch(
  expected: ErrorExpectation | undefined,
  error: unknown,
): string | undefined {
  if (expected === undefined) return undefined;
  if (typeof expected === 'string') {
    const code = (error as { code?: unknown } | null)?.code;
    return code === expected
      ? undefined
      : `an error with code '${expected}', but it threw ${showError(error)}${code === undefined ? ' (no code)' : ` with code ${inline(code)}`}`;
  }
  if (isErrorClass(expected)) {
    return error instanceof expected
      ? undefined
      : `a ${expected.name}, but it threw ${showError(error)}`;
  }
  return expected(error)
    ? undefined
    : `an error matching the predicate, but it threw ${showError(error)}, which does not match`;
}

/** The failure factory of one specification: its messages start with `<name>: `. */
export function failureOf(
  name: string,
): (message: string, expected: unknown, actual: unknown, cause?: unknown) => AssertionError {
  return (message, expected, actual, cause) =>
    new AssertionError(`${name}: ${message}`, expected, actual, cause);
}
