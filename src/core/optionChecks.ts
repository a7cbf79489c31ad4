// Checks for the options objects of the long-running and command APIs (subscribe,
// projections, rebuild, command handler, repository). Each failure names the option's path
// and what would be accepted, and is thrown synchronously at the call that got it.

import { ValidationError } from './errors.js';
import { describe, validateWellFormed } from './validation.js';

/** An integer in `[min, max]`; `undefined` passes (the caller fills in the default) unless `required`. */
export function checkInteger(
  value: unknown,
  path: string,
  min: number,
  max: number = Number.MAX_SAFE_INTEGER,
  required = false,
): void {
  if (value === undefined && !required) return;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `between ${min} and ${max}`;
    throw new ValidationError(path, `must be an integer ${range}; got ${describe(value)}`);
  }
}

/** `true` or `false`; `undefined` passes (the caller fills in the default). */
export function checkBoolean(value: unknown, path: string): void {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new ValidationError(path, `must be true or false; got ${describe(value)}`);
  }
}

/** The longest delay `setTimeout` honours: a longer one fires at once (after 1 ms). */
export const MAX_TIMER_MS = 2_147_483_647;

/** A delay in ms, an integer in `[min, MAX_TIMER_MS]`; `undefined` passes. */
export function checkMillis(value: unknown, path: string, min: number): void {
  checkInteger(value, path, min);
  if (typeof value === 'number' && value > MAX_TIMER_MS) {
    throw new ValidationError(
      path,
      `must be at most ${MAX_TIMER_MS} ms (about 24.8 days): JavaScript fires a longer timer at once; got ${value}`,
    );
  }
}

/** A non-empty, well-formed name under which something durable is stored. */
export function checkStoredName(value: unknown, path: string, purpose: string): void {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ValidationError(
      path,
      `must be a non-empty string: ${purpose}; got ${describe(value)}`,
    );
  }
  // Stores replace a lone surrogate (MongoDB with U+FFFD), so two names would share one record.
  validateWellFormed(value, path);
}

/** One of a few literal values; `undefined` passes. */
export function checkOneOf(value: unknown, path: string, allowed: readonly string[]): void {
  if (value === undefined || allowed.includes(value as string)) return;
  throw new ValidationError(
    path,
    `must be one of ${allowed.map((a) => `'${a}'`).join(', ')}; got ${describe(value)}`,
  );
}

/** A function; `undefined` passes unless `required`. */
export function checkFunction(value: unknown, path: string, shape: string, required = false): void {
  if (value === undefined && !required) return;
  if (typeof value !== 'function') {
    throw new ValidationError(path, `must be a function ${shape}; got ${describe(value)}`);
  }
}

/** A plain object (not null, not an array); `undefined` passes unless `required`. */
export function checkObject(
  value: unknown,
  path: string,
  shape: string,
  required = false,
): value is Record<string, unknown> | undefined {
  if (value === undefined && !required) return true;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError(path, `must be an object ${shape}; got ${describe(value)}`);
  }
  return true;
}

/** An object that has each of `methods` as a function (a port such as a store or a target). */
export function checkPort(value: unknown, path: string, methods: readonly string[]): void {
  checkObject(value, path, `with ${methods.join(', ')}`, true);
  for (const method of methods) {
    if (typeof (value as Record<string, unknown>)[method] !== 'function') {
      throw new ValidationError(
        `${path}.${method}`,
        `must be a function: ${path} must provide ${methods.join(', ')}`,
      );
    }
  }
}

/** Rejects keys the API does not know (a typo such as `batchsize` would otherwise be ignored). */
export function checkKnownKeys(
  value: Record<string, unknown>,
  path: string,
  known: readonly string[],
): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new ValidationError(
        `${path}.${key}`,
        `is not an option here; the options are ${known.join(', ')}`,
      );
    }
  }
}
