import type { Backoff } from './async.js';
import { ValidationError } from './errors.js';
import {
  checkBoolean,
  checkFunction,
  checkInteger,
  checkKnownKeys,
  checkMillis,
  checkObject,
  checkOneOf,
  checkPort,
  checkStoredName,
} from './optionChecks.js';
import type {
  CheckpointStore,
  PoisonPolicy,
  SubscribeOptions,
  SubscriptionHandler,
  SubscriptionNotice,
  SubscriptionStart,
} from './types.js';
import { describe } from './validation.js';

/** `SubscribeOptions` checked, with the defaults filled in. */
export interface ResolvedSubscribeOptions {
  name: string;
  from: SubscriptionStart;
  handler: SubscriptionHandler;
  handleBatch: SubscribeOptions['handleBatch'];
  storedJson: boolean;
  eventTypes: ReadonlySet<string> | undefined;
  batchSize: number;
  maxAttempts: number;
  backoff: Backoff;
  checkpointIntervalMs: number;
  pollIntervalMs: number;
  onPoison: PoisonPolicy;
  checkpoints: CheckpointStore | undefined;
  settleOn: 'handled' | 'checkpointed';
  onEvent: ((notice: SubscriptionNotice) => void) | undefined;
}

export const SUBSCRIBE_DEFAULTS = {
  batchSize: 500,
  maxAttempts: 5,
  initialDelayMs: 50,
  maxDelayMs: 5000,
  checkpointIntervalMs: 200,
  pollIntervalMs: 100,
} as const;

/** The most events one catch-up read asks for: a bigger batch only delays `stop()` and timers. */
export const MAX_SUBSCRIBE_BATCH_SIZE = 100_000;

const SUBSCRIBE_KEYS = [
  'name',
  'from',
  'handler',
  'handleBatch',
  'storedJson',
  'eventTypes',
  'batchSize',
  'retry',
  'onPoison',
  'checkpointIntervalMs',
  'pollIntervalMs',
  'checkpoints',
  'settleOn',
  'onEvent',
] as const;

export const CHECKPOINT_STORE_METHODS = [
  'load',
  'save',
  'reset',
  'park',
  'listParked',
  'unpark',
] as const;

/**
 * Checks the options every subscription engine option shares with `startProjection`
 * (everything but name, handler and where checkpoints go). `path` prefixes the error paths.
 */
export function checkRunOptions(options: Record<string, unknown>, path: string): void {
  const from = options.from;
  if (!(
    from === undefined ||
    from === 'start' ||
    from === 'end' ||
    (typeof from === 'number' && Number.isSafeInteger(from) && from >= 0)
  )) {
    throw new ValidationError(
      `${path}.from`,
      `must be 'start', 'end' or a position (an integer >= 0); got ${describe(from)}`,
    );
  }
  checkInteger(options.batchSize, `${path}.batchSize`, 1, MAX_SUBSCRIBE_BATCH_SIZE);
  if (
    checkObject(options.retry, `${path}.retry`, '{ maxAttempts?, initialDelayMs?, maxDelayMs? }')
  ) {
    const retry = options.retry;
    if (retry !== undefined) {
      checkKnownKeys(retry, `${path}.retry`, ['maxAttempts', 'initialDelayMs', 'maxDelayMs']);
      checkInteger(retry.maxAttempts, `${path}.retry.maxAttempts`, 1);
      checkMillis(retry.initialDelayMs, `${path}.retry.initialDelayMs`, 0);
      checkMillis(retry.maxDelayMs, `${path}.retry.maxDelayMs`, 0);
    }
  }
  checkOneOf(options.onPoison, `${path}.onPoison`, ['park', 'stop']);
  checkMillis(options.checkpointIntervalMs, `${path}.checkpointIntervalMs`, 0);
  checkMillis(options.pollIntervalMs, `${path}.pollIntervalMs`, 1);
  checkFunction(options.onEvent, `${path}.onEvent`, '(notice) => void');
}

/**
 * Checks every option of `subscribe()` and fills in the defaults. Throws `ValidationError`
 * naming the option and the values it takes.
 */
export function resolveSubscribeOptions(options: SubscribeOptions): ResolvedSubscribeOptions {
  checkObject(options, 'options', '{ name, handler, ... }', true);
  const raw = options as unknown as Record<string, unknown>;
  checkKnownKeys(raw, 'options', SUBSCRIBE_KEYS);
  checkStoredName(options.name, 'options.name', 'the durable checkpoint is stored under it');
  checkFunction(
    options.handler,
    'options.handler',
    '(event, context) => void | Promise<void>',
    true,
  );
  checkFunction(options.handleBatch, 'options.handleBatch', '(events) => void | Promise<void>');
  checkBoolean(options.storedJson, 'options.storedJson');
  checkRunOptions(raw, 'options');
  const eventTypes: unknown = options.eventTypes;
  if (
    eventTypes !== undefined &&
    (!Array.isArray(eventTypes) || !eventTypes.every((t) => typeof t === 'string' && t.length > 0))
  ) {
    throw new ValidationError(
      'options.eventTypes',
      `must be an array of event type names (non-empty strings); got ${describe(eventTypes)}`,
    );
  }
  if (options.checkpoints !== undefined) {
    checkPort(options.checkpoints, 'options.checkpoints', CHECKPOINT_STORE_METHODS);
  }
  checkOneOf(options.settleOn, 'options.settleOn', ['handled', 'checkpointed']);
  const D = SUBSCRIBE_DEFAULTS;
  return {
    name: options.name,
    from: options.from ?? 'start',
    handler: options.handler,
    handleBatch: options.handleBatch,
    storedJson: options.storedJson === true,
    eventTypes: options.eventTypes ? new Set(options.eventTypes) : undefined,
    batchSize: options.batchSize ?? D.batchSize,
    maxAttempts: options.retry?.maxAttempts ?? D.maxAttempts,
    backoff: {
      initialDelayMs: options.retry?.initialDelayMs ?? D.initialDelayMs,
      maxDelayMs: options.retry?.maxDelayMs ?? D.maxDelayMs,
    },
    checkpointIntervalMs: options.checkpointIntervalMs ?? D.checkpointIntervalMs,
    pollIntervalMs: options.pollIntervalMs ?? D.pollIntervalMs,
    onPoison: options.onPoison ?? 'park',
    checkpoints: options.checkpoints,
    settleOn: options.settleOn ?? 'handled',
    onEvent: options.onEvent,
  };
}
