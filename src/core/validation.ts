import { ValidationError } from './errors.js';
import { checkReservedMetadata } from './reservedMetadata.js';
import { activeTraceMetadata } from './tracing.js';
import type { EventData, ExpectedVersion, ReadAllOptions, ReadStreamOptions } from './types.js';

/** Default and hard limits shared by every store. */
export const LIMITS = {
  maxBatchSize: 10_000,
  maxStreamIdLength: 512,
  maxEventTypeLength: 256,
  maxEventIdLength: 256,
  /**
   * Largest append, counted as the UTF-8 bytes of every event's JSON (data, metadata, id and
   * type): MongoDB's 16 MiB document limit, applied on every store so an append that works on
   * one store works on all. (A MongoDB commit also needs room for its envelope; the MongoDB
   * store checks the exact document size as well.)
   */
  maxAppendBytes: 16 * 1024 * 1024,
  /** Deepest nesting of objects and arrays inside `data` or `metadata` (MongoDB allows 100 levels per document, including the commit around the event). */
  maxDepth: 64,
} as const;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// Native in Node 20 (V8 11.3), several times faster than the regular expression; the
// compile target's types just do not declare it.
const nativeWellFormed = (String.prototype as { isWellFormed?: (this: string) => boolean })
  .isWellFormed;

/**
 * Whether `s` is well-formed Unicode (no lone surrogate halves). A lone surrogate cannot be
 * encoded in UTF-8, so databases replace it (SQLite, MongoDB's BSON) and two different ids
 * would read back the same. (`String.prototype.isWellFormed` is ES2024; Node 20.19 has it, the
 * compile target does not.)
 */
export function isWellFormedString(s: string): boolean {
  return nativeWellFormed === undefined ? !LONE_SURROGATE.test(s) : nativeWellFormed.call(s);
}

/** Throws a `ValidationError` at `path` when `value` holds a lone surrogate. */
export function validateWellFormed(value: string, path: string): void {
  if (!isWellFormedString(value)) {
    const at = value.search(LONE_SURROGATE);
    throw new ValidationError(
      path,
      `contains a lone surrogate (\\u${value.charCodeAt(at).toString(16).toUpperCase()} at index ${at}), which is not well-formed Unicode and cannot be stored unchanged; fix the string's encoding`,
    );
  }
}

/** UTF-8 byte length of a well-formed string, without allocating its encoding. */
function utf8Length(s: string): number {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

const MIB = 1024 * 1024;
const mib = (bytes: number): string => `${(bytes / MIB).toFixed(1)} MiB`;

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
  validateWellFormed(streamId, path);
}

/** Append and delete options: absent, or an object (`null` is a mistake, not a default). */
export function validateWriteOptions(options: unknown, path = 'options'): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ValidationError(
      path,
      `must be an object such as { expectedVersion: 3 } or be left out; got ${describe(options)}`,
    );
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
  const out: NormalizedEvent[] = [];
  let bytes = 0;
  const trace = activeTraceMetadata();
  // An index loop, not map(): map() skips the holes of a sparse array, which would leave
  // holes in the batch that stores then write as nulls.
  for (let i = 0; i < events.length; i++) {
    const raw: unknown = events[i];
    const at = `events[${i}]`;
    if (!(i in events)) {
      throw new ValidationError(
        at,
        'is missing (the events array is sparse); pass one object per event',
      );
    }
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
    validateWellFormed(event.type, `${at}.type`);
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
      validateWellFormed(event.id, `${at}.id`);
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
    const normalized: NormalizedEvent = {
      id,
      type: event.type,
      data: JSON.stringify(event.data),
      metadata: JSON.stringify(
        trace === undefined || metadata.traceparent !== undefined
          ? metadata
          : { ...metadata, ...trace },
      ),
    };
    bytes +=
      utf8Length(normalized.data) +
      utf8Length(normalized.metadata) +
      utf8Length(id) +
      utf8Length(event.type);
    if (bytes > LIMITS.maxAppendBytes) {
      throw new ValidationError(
        'events',
        `${i === 0 ? 'events[0] alone' : `events[0..${i}]`} already take ${mib(bytes)} as JSON; one append may carry at most ${mib(LIMITS.maxAppendBytes)}. Split the batch into several appends, or keep large payloads outside the event store and store a reference`,
      );
    }
    out.push(normalized);
  }
  return out;
}

/**
 * The data model of event payloads is plain JSON: objects, arrays, strings, finite numbers,
 * booleans and null. Rejects, naming the exact path, whatever would not read back equal:
 * functions, symbols, bigint, NaN/Infinity, cycles, Dates and other class instances,
 * `undefined` or holes inside arrays, strings and keys that are not well-formed Unicode, and
 * nesting deeper than {@link LIMITS.maxDepth}. An `undefined` object property is dropped, as
 * JSON does (reading it back still gives `undefined`).
 */
export function assertJsonValue(
  value: unknown,
  path: string,
  options: {
    /** Accept Dates (read-model documents, which some targets store natively). Default false. */
    allowDates?: boolean;
  } = {},
): void {
  const allowDates = options.allowDates === true;
  // Nearly every payload is valid: check it without building paths or tracking cycles, and
  // walk it again the careful way only to name what is wrong.
  if (isPlainJson(value, allowDates)) return;
  checkJson(value, path, allowDates, new Set(), 0);
}

/**
 * Whether {@link checkJson} accepts `value`, without paths or a set of visited objects (a
 * cycle ends at the depth limit). It may refuse what checkJson accepts (a Date nested at the
 * depth limit), never the other way round: a refusal only sends the value to checkJson.
 */
export function isPlainJson(value: unknown, allowDates: boolean, depth = 0): boolean {
  switch (typeof value) {
    case 'string':
      return isWellFormedString(value);
    case 'boolean':
    case 'undefined':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object':
      break;
    default:
      return false;
  }
  if (value === null) return true;
  if (depth >= LIMITS.maxDepth) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (!(i in value)) return false;
      const item: unknown = value[i];
      if (item === undefined || !isPlainJson(item, allowDates, depth + 1)) return false;
    }
    return true;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) {
    return allowDates && value instanceof Date && !Number.isNaN(value.getTime());
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!isWellFormedString(key) || key.includes('\u0000')) return false;
    if (!isPlainJson(record[key], allowDates, depth + 1)) return false;
  }
  return true;
}

function checkJson(
  value: unknown,
  path: string,
  allowDates: boolean,
  seen: Set<unknown>,
  depth: number,
): void {
  switch (typeof value) {
    case 'string':
      validateWellFormed(value, path);
      return;
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
    if (allowDates) {
      if (Number.isNaN(value.getTime())) throw new ValidationError(path, 'is an invalid Date');
      return;
    }
    // JSON turns a Date into a string, so state rebuilt from the store would differ from
    // the state the command saw.
    throw new ValidationError(
      path,
      'is a Date; event payloads are plain JSON, so store it as a string (date.toISOString()) or a number (date.getTime())',
    );
  }
  if (seen.has(value)) {
    throw new ValidationError(path, 'is a circular reference, which JSON cannot represent');
  }
  if (depth >= LIMITS.maxDepth) {
    throw new ValidationError(
      path,
      `is nested more than ${LIMITS.maxDepth} levels deep; flatten the payload`,
    );
  }
  seen.add(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (!(i in value) || item === undefined) {
        throw new ValidationError(
          `${path}[${i}]`,
          `is ${i in value ? 'undefined' : 'a hole of a sparse array'}, which JSON turns into null; use null explicitly`,
        );
      }
      checkJson(item, `${path}[${i}]`, allowDates, seen, depth + 1);
    }
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
      if (!isWellFormedString(key)) {
        validateWellFormed(key, `${path} (key ${JSON.stringify(key)})`);
      }
      if (key.includes('\u0000')) {
        // MongoDB cannot store such a key; one data model on every store means refusing it.
        throw new ValidationError(
          path,
          `has a key with a NUL character (${JSON.stringify(key)}); rename the key`,
        );
      }
      checkJson(item, `${path}.${key}`, allowDates, seen, depth + 1);
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
