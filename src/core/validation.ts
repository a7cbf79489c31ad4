import { ValidationError } from './errors.js';
import { checkReservedMetadata } from './reservedMetadata.js';
import type { EventData, ExpectedVersion, ReadAllOptions, ReadStreamOptions } from './types.js';

/** Default and hard limits shared by every store. */
export const LIMITS = {
  maxBatchSize: 10_000,
  maxStreamIdLength: 512,
  maxEventTypeLength: 256,
  maxEventIdLength: 256,
} as const;

export interface NormalizedEvent {
  id: string;
  type: string;
  /** Serialized JSON of `data`. */
  data: string;
  /** Serialized JSON of `metadata`. */
  metadata: string;
}

export function validateStreamId(streamId: unknown, path = 'streamId'): asserts streamId is string {
  if (typeof streamId !== 'string') {
    throw new ValidationError(path, `must be a string, got ${describe(streamId)}`);
  }
  if (streamId.trim().length === 0) {
    throw new ValidationError(path, 'must not be empty; use e.g. "user-42" (category-id)');
  }
  if (streamId.length > LIMITS.maxStreamIdLength) {
    throw new ValidationError(
      path,
      `is ${streamId.length} characters long; the limit is ${LIMITS.maxStreamIdLength}`,
    );
  }
  if (streamId.includes('\u0000')) {
    throw new ValidationError(path, 'must not contain NUL characters');
  }
}

export function validateExpectedVersion(
  expected: unknown,
  path = 'options.expectedVersion',
): asserts expected is ExpectedVersion {
  if (expected === 'any' || expected === 'no_stream' || expected === 'stream_exists') return;
  if (typeof expected === 'number' && Number.isSafeInteger(expected) && expected >= 0) return;
  throw new ValidationError(
    path,
    `must be a non-negative integer or one of 'any', 'no_stream', 'stream_exists'; got ${describe(
      expected,
    )}`,
  );
}

function validateCount(value: unknown, path: string, min: number): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new ValidationError(path, `must be an integer >= ${min}; got ${describe(value)}`);
  }
}

export function validateReadStreamOptions(options: ReadStreamOptions | undefined): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null) {
    throw new ValidationError('options', `must be an object; got ${describe(options)}`);
  }
  validateCount(options.from, 'options.from', 0);
  validateCount(options.maxCount, 'options.maxCount', 0);
  if (
    options.direction !== undefined &&
    options.direction !== 'forwards' &&
    options.direction !== 'backwards'
  ) {
    throw new ValidationError(
      'options.direction',
      `must be 'forwards' or 'backwards'; got ${describe(options.direction)}`,
    );
  }
}

export function validateReadAllOptions(options: ReadAllOptions | undefined): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null) {
    throw new ValidationError('options', `must be an object; got ${describe(options)}`);
  }
  validateCount(options.from, 'options.from', 0);
  validateCount(options.maxCount, 'options.maxCount', 0);
}

/**
 * Checks a batch and serializes it once, so every store stores exactly the same JSON and a
 * bad event anywhere in the batch rejects the whole batch before anything is written.
 */
export function normalizeEvents(
  events: readonly EventData[],
  newId: () => string,
  maxBatchSize: number = LIMITS.maxBatchSize,
): NormalizedEvent[] {
  if (!Array.isArray(events)) {
    throw new ValidationError('events', `must be an array of events; got ${describe(events)}`);
  }
  if (events.length === 0) {
    throw new ValidationError('events', 'must contain at least one event');
  }
  if (events.length > maxBatchSize) {
    throw new ValidationError(
      'events',
      `has ${events.length} events; one append takes at most ${maxBatchSize} (split the batch or raise maxBatchSize)`,
    );
  }
  const seen = new Set<string>();
  return (events as readonly unknown[]).map((raw, i) => {
    const at = `events[${i}]`;
    if (typeof raw !== 'object' || raw === null) {
      throw new ValidationError(at, `must be an object { type, data }; got ${describe(raw)}`);
    }
    const event = raw as Partial<EventData>;
    if (typeof event.type !== 'string' || event.type.length === 0) {
      throw new ValidationError(
        `${at}.type`,
        `must be a non-empty string; got ${describe(event.type)}`,
      );
    }
    if (event.type.length > LIMITS.maxEventTypeLength) {
      throw new ValidationError(
        `${at}.type`,
        `is longer than ${LIMITS.maxEventTypeLength} characters`,
      );
    }
    let id: string;
    if (event.id === undefined) {
      id = newId();
    } else {
      if (
        typeof event.id !== 'string' ||
        event.id.length === 0 ||
        event.id.length > LIMITS.maxEventIdLength
      ) {
        throw new ValidationError(
          `${at}.id`,
          `must be a non-empty string of at most ${LIMITS.maxEventIdLength} characters; got ${describe(event.id)}`,
        );
      }
      id = event.id;
    }
    if (seen.has(id)) {
      throw new ValidationError(`${at}.id`, `'${id}' appears twice in the same append`);
    }
    seen.add(id);
    if (!('data' in event) || event.data === undefined) {
      throw new ValidationError(
        `${at}.data`,
        'is missing; use null or {} for an event without data',
      );
    }
    assertJsonValue(event.data, `${at}.data`);
    const metadata = event.metadata ?? {};
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
      throw new ValidationError(
        `${at}.metadata`,
        `must be a plain object; got ${describe(metadata)}`,
      );
    }
    assertJsonValue(metadata, `${at}.metadata`);
    checkReservedMetadata(metadata, `${at}.metadata`);
    return {
      id,
      type: event.type,
      data: JSON.stringify(event.data),
      metadata: JSON.stringify(metadata),
    };
  });
}

/**
 * Rejects what JSON would silently change or cannot encode: functions, symbols, bigint,
 * NaN/Infinity, cycles, class instances other than Date. Names the exact path.
 */
export function assertJsonValue(
  value: unknown,
  path: string,
  seen: Set<unknown> = new Set(),
): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) {
        throw new ValidationError(path, `is ${String(value)}, which JSON cannot represent`);
      }
      return;
    case 'undefined':
      // JSON drops undefined properties, which is what users expect of optional fields.
      return;
    case 'bigint':
      throw new ValidationError(
        path,
        'is a bigint, which JSON cannot represent; store it as a string',
      );
    case 'function':
    case 'symbol':
      throw new ValidationError(path, `is a ${typeof value}, which cannot be stored in an event`);
    case 'object':
      break;
  }
  if (value === null) return;
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new ValidationError(path, 'is an invalid Date');
    return;
  }
  if (seen.has(value)) {
    throw new ValidationError(path, 'is a circular reference, which JSON cannot represent');
  }
  seen.add(value);
  if (Array.isArray(value)) {
    value.forEach((item, i) => assertJsonValue(item, `${path}[${i}]`, seen));
  } else {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      const name = (value as { constructor?: { name?: string } }).constructor?.name ?? 'unknown';
      throw new ValidationError(
        path,
        `is an instance of ${name}; event payloads must be plain JSON objects (convert it first)`,
      );
    }
    for (const [key, item] of Object.entries(value)) {
      assertJsonValue(item, `${path}.${key}`, seen);
    }
  }
  seen.delete(value);
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return `${typeof value} ${value.toString()}`;
  }
  return typeof value === 'undefined' ? 'undefined' : `a ${typeof value}`;
}
