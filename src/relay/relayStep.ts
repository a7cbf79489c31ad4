import type { Logger } from '../core/logger.js';
import type { RelayChange } from './relayChange.js';

/** What a step sees besides the message. */
export interface RelayStepContext {
  /** The change's idempotency key (stable across redeliveries). */
  key: string;
  change: RelayChange;
  /** 1 on the first try of this step for this change, then 2, 3, … */
  attempt: number;
  /** Aborted when the relay stops for good (graceful shutdown ran out of time). */
  signal: AbortSignal;
  log: Logger;
}

export interface RetrySettings {
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

/**
 * One pipeline step. `run` returns the message for the next step; `null` drops the change
 * (a filter), `undefined` passes the message on unchanged.
 */
export interface RelayStep {
  readonly name: string;
  readonly retry: RetrySettings;
  /**
   * The step never changes the message it is given (filters, sinks): the deliverer copies a
   * change's message only before the first step that may change it, since a dead letter
   * must carry the change as it arrived.
   */
  readonly readsOnly?: boolean;
  /**
   * A step that can decide at once (a filter, a map) returns its result directly: the
   * deliverer then runs the next step in the same turn, with no promise per step.
   */
  run(message: unknown, context: RelayStepContext): unknown;
  close?(): Promise<void>;
}

/**
 * What a custom step module's default export looks like.
 *
 * @example
 * // steps/enrich.js
 * export default (options, { log }) => async (message, ctx) => ({ ...message, tenant: options.tenant });
 */
export type CustomStepFactory = (
  options: unknown,
  context: { log: Logger; name: string },
) =>
  | CustomStepFunction
  | { run: CustomStepFunction; close?: () => Promise<void> }
  | Promise<CustomStepFunction | { run: CustomStepFunction; close?: () => Promise<void> }>;

export type CustomStepFunction = (message: unknown, context: RelayStepContext) => unknown;
