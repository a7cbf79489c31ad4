// The options createCommandHandler and createAggregateRepository share, checked in one place,
// and what the per-call write options do to the events appended.

import type { Backoff } from './async.js';
import type { DomainEvent } from './decider.js';
import { ValidationError } from './errors.js';
import { idempotentEventId } from './idempotentEventId.js';
import {
  checkFunction,
  checkInteger,
  checkKnownKeys,
  checkObject,
  checkPort,
} from './optionChecks.js';
import type { EventData, EventMetadata, ExpectedVersion } from './types.js';
import { rejectCallerIdempotencyKey } from './reservedMetadata.js';
import { describe, validateExpectedVersion } from './validation.js';

/** Retries of a command whose append lost a race against a concurrent writer. */
export interface CommandRetryOptions {
  /** Attempts in total (the first one included) before the `ConcurrencyError` is rethrown. Default 5. */
  maxAttempts?: number;
  /** First backoff delay in ms (jittered, doubling per attempt). Default 10. */
  initialDelayMs?: number;
  /** Backoff ceiling in ms. Default 1000. */
  maxDelayMs?: number;
}

/** `CommandRetryOptions` checked, with the defaults filled in. */
export interface RetryPolicy {
  maxAttempts: number;
  backoff: Backoff;
}

export function retryPolicy(retry: CommandRetryOptions | undefined): RetryPolicy {
  checkObject(retry, 'options.retry', '{ maxAttempts?, initialDelayMs?, maxDelayMs? }');
  if (retry !== undefined) {
    checkKnownKeys(retry as Record<string, unknown>, 'options.retry', [
      'maxAttempts',
      'initialDelayMs',
      'maxDelayMs',
    ]);
  }
  const maxAttempts = retry?.maxAttempts ?? 5;
  const backoff = {
    initialDelayMs: retry?.initialDelayMs ?? 10,
    maxDelayMs: retry?.maxDelayMs ?? 1000,
  };
  checkInteger(maxAttempts, 'options.retry.maxAttempts', 1);
  checkInteger(backoff.initialDelayMs, 'options.retry.initialDelayMs', 0);
  checkInteger(backoff.maxDelayMs, 'options.retry.maxDelayMs', 0);
  return { maxAttempts, backoff };
}

/**
 * Checks `every` and `schemaVersion` of the snapshot options.
 * @returns the schema version snapshots are stored and accepted at (default 1).
 */
export function checkSnapshotOptions(
  snapshots: { every: number; schemaVersion?: number } | undefined,
): number {
  checkObject(snapshots, 'options.snapshots', '{ store, every, schemaVersion?, onSnapshotError? }');
  const schemaVersion = snapshots?.schemaVersion ?? 1;
  if (snapshots !== undefined) {
    checkPort((snapshots as { store?: unknown }).store, 'options.snapshots.store', [
      'load',
      'save',
    ]);
    checkFunction(
      (snapshots as { onSnapshotError?: unknown }).onSnapshotError,
      'options.snapshots.onSnapshotError',
      '(error, context) => void',
    );
    checkInteger(snapshots.every, 'options.snapshots.every', 1, undefined, true);
    checkInteger(schemaVersion, 'options.snapshots.schemaVersion', 1);
  }
  return schemaVersion;
}

/** What `handle` and `save`/`update` take per call (`HandleOptions`, `SaveOptions`). */
export interface WriteOptions {
  expectedVersion?: ExpectedVersion;
  idempotencyKey?: string;
  metadata?: EventMetadata;
}

const MAX_IDEMPOTENCY_KEY_LENGTH = 256;

export function validateWriteOptions(options: WriteOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new ValidationError('options', `must be an object; got ${describe(options)}`);
  }
  if (options.expectedVersion !== undefined) validateExpectedVersion(options.expectedVersion);
  const key = options.idempotencyKey;
  if (
    key !== undefined &&
    (typeof key !== 'string' || key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH)
  ) {
    throw new ValidationError(
      'options.idempotencyKey',
      `must be a non-empty string of at most ${MAX_IDEMPOTENCY_KEY_LENGTH} characters; got ${describe(key)}`,
    );
  }
  const metadata = options.metadata;
  if (
    metadata !== undefined &&
    (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))
  ) {
    throw new ValidationError(
      'options.metadata',
      `must be a plain object; got ${describe(metadata)}`,
    );
  }
  rejectCallerIdempotencyKey(metadata, 'options.metadata');
}

/**
 * What a write appends: the events with ids derived from the idempotency key (else the
 * event's own id, else a random one) and the caller's metadata under each event's own, at
 * the caller's expected version or else at `version`, the one the events were decided on.
 * @param path how errors name the events, e.g. `'decided events'`.
 */
export function toAppend(
  streamId: string,
  events: readonly DomainEvent[],
  options: WriteOptions,
  { version, path }: { version: number; path: string },
): { events: EventData[]; expectedVersion: ExpectedVersion } {
  const key = options.idempotencyKey;
  return {
    events: events.map((event, i) => ({
      id:
        key !== undefined
          ? idempotentEventId(streamId, key, i)
          : (ownId(event) ?? crypto.randomUUID()),
      type: event.type,
      data: event.data,
      metadata: {
        ...options.metadata,
        ...ownMetadata(event, `${path}[${i}].metadata`),
        ...(key !== undefined ? { idempotencyKey: key } : {}),
      },
    })),
    // A deleted stream reads as empty but keeps its version, so "empty" must be expressed
    // as 'no_stream' rather than 0 for a restart to go through.
    expectedVersion: options.expectedVersion ?? (version === 0 ? 'no_stream' : version),
  };
}

function ownId(event: DomainEvent): string | undefined {
  const id = (event as { id?: unknown }).id;
  return typeof id === 'string' ? id : undefined;
}

function ownMetadata(event: DomainEvent, path: string): EventMetadata | undefined {
  const metadata = (event as { metadata?: unknown }).metadata;
  if (metadata === undefined) return undefined;
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw new ValidationError(path, `must be a plain object; got ${describe(metadata)}`);
  }
  rejectCallerIdempotencyKey(metadata as EventMetadata, path);
  return metadata as EventMetadata;
}

/** The store methods a command handler or repository reads and writes through. */
const STORE_METHODS = ['appendToStream', 'readStream', 'streamInfo'];

/**
 * Checks the options object of `createCommandHandler` (`kind: 'decider'`) or
 * `createAggregateRepository` (`kind: 'repository'`) beyond retry and snapshots.
 */
export function validateHandlerOptions(options: unknown, kind: 'decider' | 'repository'): void {
  const keys =
    kind === 'decider'
      ? ['store', 'decider', 'retry', 'snapshots', 'logger']
      : ['store', 'streamId', 'create', 'snapshots', 'retry', 'logger'];
  checkObject(options, 'options', `{ ${keys.join(', ')} }`, true);
  const o = options as Record<string, unknown>;
  checkKnownKeys(o, 'options', keys);
  checkPort(o.store, 'options.store', STORE_METHODS);
  if (o.logger !== undefined)
    checkPort(o.logger, 'options.logger', ['debug', 'info', 'warn', 'error', 'child']);
  if (kind === 'decider') {
    checkPort(o.decider, 'options.decider', ['initialState', 'evolve', 'decide']);
  } else {
    checkFunction(o.streamId, 'options.streamId', '(id) => string', true);
    checkFunction(o.create, 'options.create', '(id) => aggregate', true);
    if (o.snapshots !== undefined) {
      checkObject(o.snapshots, 'options.snapshots', '{ store, every, toSnapshot, fromSnapshot }');
      const snapshots = o.snapshots as Record<string, unknown>;
      checkFunction(
        snapshots.toSnapshot,
        'options.snapshots.toSnapshot',
        '(aggregate) => state',
        true,
      );
      checkFunction(
        snapshots.fromSnapshot,
        'options.snapshots.fromSnapshot',
        '(id, state) => aggregate',
        true,
      );
    }
  }
}
