import { ValidationError } from '../core/errors.js';
import type { RecordedEvent } from '../core/types.js';
import { toEventJson } from '../core/eventJson.js';
import { storedJsonOf } from '../core/storedJson.js';
import { streamCategory } from '../core/streamCategory.js';

/** Header names of a published event (DESIGN.md's Kafka contract, plus tracing ids). */
export const KAFKA_EVENT_HEADERS = {
  eventId: 'event-id',
  eventType: 'event-type',
  streamVersion: 'stream-version',
  position: 'position',
  correlationId: 'correlation-id',
  causationId: 'causation-id',
  traceparent: 'traceparent',
  tracestate: 'tracestate',
} as const;

/** Longest trace-context header copied from metadata (W3C allows tracestate up to 512). */
const MAX_TRACE_HEADER = 512;

/** A message ready for the producer: string key, JSON value, string headers. */
export interface KafkaEventMessage {
  topic: string;
  key: string;
  value: string;
  headers: Record<string, string>;
}

const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;

/** Kafka's rule for topic names: 1–249 of `[A-Za-z0-9._-]`, and not `.` or `..`. */
export function isValidTopicName(name: unknown): name is string {
  return typeof name === 'string' && TOPIC.test(name) && name !== '.' && name !== '..';
}

/**
 * The default topic of an event: `eventloom.<category>` (`user-42` → `eventloom.user`).
 * Characters Kafka does not allow in topic names become `_`.
 *
 * @example
 * defaultTopicFor({ streamId: 'order-7' }) // 'eventloom.order'
 */
export function defaultTopicFor(event: { streamId: string }): string {
  const category = streamCategory(event.streamId).replace(/[^A-Za-z0-9._-]/g, '_') || '_';
  return `eventloom.${category}`.slice(0, 249);
}

const TRACE_HEADERS = [KAFKA_EVENT_HEADERS.traceparent, KAFKA_EVENT_HEADERS.tracestate] as const;

const idHeader = (v: unknown): string | undefined =>
  typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined;

/**
 * The publisher's form of a message. The headers are a Map, which the client sends as it is
 * (a plain object it first copies into a new Map, per message). The value is UTF-8 bytes: a
 * buffered message then holds a small view of memory outside the JS heap instead of a
 * string the garbage collector copies while the message waits for its produce request.
 */
export interface KafkaRecord {
  topic: string;
  key: string;
  value: Buffer;
  headers: Map<string, string>;
}

/** The published form of an event: key = stream id, JSON value, contract headers. */
export function toKafkaMessage(event: RecordedEvent, topic: string): KafkaEventMessage {
  return {
    topic,
    key: event.streamId,
    value: eventValue(event),
    headers: Object.fromEntries(eventHeaders(event)),
  };
}

/** {@link toKafkaMessage}, in the publisher's form (see {@link KafkaRecord}). */
export function toKafkaRecord(event: RecordedEvent, topic: string): KafkaRecord {
  return {
    topic,
    key: event.streamId,
    value: Buffer.from(eventValue(event), 'utf8'),
    headers: eventHeaders(event),
  };
}

function eventHeaders(event: RecordedEvent): Map<string, string> {
  const headers = new Map<string, string>();
  headers.set(KAFKA_EVENT_HEADERS.eventId, event.id);
  headers.set(KAFKA_EVENT_HEADERS.eventType, event.type);
  headers.set(KAFKA_EVENT_HEADERS.streamVersion, String(event.version));
  headers.set(KAFKA_EVENT_HEADERS.position, String(event.position));
  const metadata = event.metadata as RecordedEvent['metadata'] | undefined;
  const correlation = idHeader(metadata?.correlationId);
  if (correlation !== undefined) headers.set(KAFKA_EVENT_HEADERS.correlationId, correlation);
  const causation = idHeader(metadata?.causationId);
  if (causation !== undefined) headers.set(KAFKA_EVENT_HEADERS.causationId, causation);
  // The append's trace context, as stored: a consumer in another process continues it (and
  // counts a malformed one there, rather than the publisher refusing the event).
  for (const key of TRACE_HEADERS) {
    const value = metadata?.[key];
    if (typeof value === 'string' && value !== '' && value.length <= MAX_TRACE_HEADER) {
      headers.set(key, value);
    }
  }
  return headers;
}

/**
 * `JSON.stringify(toEventJson(event))`, byte for byte for the text Eventloom stores. When the
 * store handed on the JSON text of the event's data and metadata (a subscription with
 * `storedJson`), that text is copied in, which costs about half of serialising it again.
 */
function eventValue(event: RecordedEvent): string {
  const stored = storedJsonOf(event);
  if (stored === undefined) return JSON.stringify(toEventJson(event));
  return `{"id":${JSON.stringify(event.id)},"streamId":${JSON.stringify(event.streamId)},"type":${JSON.stringify(event.type)},"data":${stored.data},"metadata":${stored.metadata},"version":${event.version},"position":${event.position},"recordedAt":"${event.recordedAt.toISOString()}"}`;
}

/** Bytes a message takes in a record batch, near enough to compare with `max.message.bytes`. */
export function messageBytes(m: KafkaRecord): number {
  let bytes = 70 + Buffer.byteLength(m.key) + m.value.length;
  for (const [k, v] of m.headers) bytes += 8 + k.length + Buffer.byteLength(v);
  return bytes;
}

/**
 * Parses a published event back. Throws a {@link ValidationError} naming the field when the
 * message is not an Eventloom event (the consumer dead-letters those without retrying).
 */
export function fromKafkaMessage(value: Buffer | string | undefined): RecordedEvent {
  if (value === undefined || value.length === 0) {
    throw new ValidationError('message.value', 'is empty; expected an Eventloom event as JSON');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'));
  } catch (error) {
    throw new ValidationError('message.value', `is not JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ValidationError('message.value', 'must be a JSON object (an Eventloom event)');
  }
  const e = raw as Record<string, unknown>;
  const str = (field: string): string => {
    const v = e[field];
    if (typeof v !== 'string' || v === '') {
      throw new ValidationError(`message.value.${field}`, 'must be a non-empty string');
    }
    return v;
  };
  const int = (field: string): number => {
    const v = e[field];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
      throw new ValidationError(`message.value.${field}`, 'must be an integer >= 0');
    }
    return v;
  };
  const metadata = e.metadata ?? {};
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw new ValidationError('message.value.metadata', 'must be an object');
  }
  const recordedAt = new Date(str('recordedAt'));
  if (Number.isNaN(recordedAt.getTime())) {
    throw new ValidationError('message.value.recordedAt', 'must be an ISO date');
  }
  return {
    id: str('id'),
    streamId: str('streamId'),
    type: str('type'),
    data: e.data,
    metadata: metadata as Record<string, unknown>,
    version: int('version'),
    position: int('position'),
    recordedAt,
  };
}
