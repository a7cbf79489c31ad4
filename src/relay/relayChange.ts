import { hash } from 'node:crypto';
import type { Document } from 'mongodb';
import type { RecordedEvent } from '../core/types.js';
import { toEventJson } from '../core/eventJson.js';
import { streamCategory } from '../core/streamCategory.js';
import { TRACEPARENT, TRACESTATE } from '../core/tracing.js';

/** Where a stream continues: a resume token, a cluster time, or an event-store position. */
export interface ResumePoint {
  /** A change stream resume token (as the server sent it). */
  token?: Document;
  /** Start at this cluster time (inclusive) when there is no token yet. */
  time?: { t: number; i: number };
  /** Last handled event-store position. */
  position?: number;
  /** Present while an initial snapshot is incomplete. */
  snapshot?: SnapshotProgress;
}

export interface SnapshotProgress {
  /** Namespaces still to copy, in order; the first is in progress. */
  remaining: string[];
  /** Last `_id` copied of the first namespace (Extended JSON), if any. */
  afterId?: string;
  /** Fixed when the snapshot started: part of every snapshot message's idempotency key. */
  id: string;
}

/** The message a pipeline receives: a change event in relaxed Extended JSON. */
export interface ChangeMessage {
  /** The change's idempotency key. */
  id: string;
  operationType: string;
  ns: { db: string; coll: string };
  documentKey?: Record<string, unknown>;
  fullDocument?: Record<string, unknown> | null;
  fullDocumentBeforeChange?: Record<string, unknown> | null;
  updateDescription?: Record<string, unknown>;
  clusterTime?: unknown;
  wallTime?: unknown;
  /** The recorded event, for the `eventloom` source. */
  event?: Record<string, unknown>;
  [extra: string]: unknown;
}

/** One change on its way through the relay. */
export interface RelayChange {
  /** Stable idempotency key: the same on every delivery of this change. */
  key: string;
  /** Changes with one ordering key are delivered one after the other. */
  orderingKey: string;
  /** The checkpointed stream it came from. */
  streamKey: string;
  /** Where the stream continues once this change (and all before it) is delivered. */
  point: ResumePoint;
  /** Source time in ms since the epoch (for lag), or undefined. */
  sourceTimeMs: number | undefined;
  message: ChangeMessage;
  /**
   * The source's W3C trace context (`traceparent`, maybe `tracestate`): an Eventloom event's,
   * from its metadata. The change's span continues it; webhooks and Kafka messages carry it.
   */
  trace?: Record<string, string>;
}

export function hashKey(...parts: string[]): string {
  // The one-shot hash: no Hash object per change (same digest as createHash's).
  return hash('sha256', parts.join('\u0000'), 'hex').slice(0, 32);
}

export function fromRecordedEvent(
  event: RecordedEvent,
  namespace: string,
  streamKey: string,
): RelayChange {
  const key = hashKey('eventloom', event.id);
  const recorded = toEventJson(event);
  const trace = traceOf(event.metadata);
  return {
    ...(trace ? { trace } : {}),
    key,
    orderingKey: `stream:${event.streamId}`,
    streamKey,
    point: { position: event.position },
    sourceTimeMs: event.recordedAt.getTime(),
    message: {
      id: key,
      operationType: 'event',
      ns: { db: namespace, coll: streamCategory(event.streamId) },
      documentKey: { _id: event.id },
      fullDocument: recorded,
      event: recorded,
    },
  };
}

/** The trace-context fields of event metadata, when it has a traceparent string. */
function traceOf(
  metadata: Record<string, unknown> | undefined,
): Record<string, string> | undefined {
  const traceparent = metadata?.[TRACEPARENT];
  if (typeof traceparent !== 'string') return undefined;
  const tracestate = metadata?.[TRACESTATE];
  return typeof tracestate === 'string' ? { traceparent, tracestate } : { traceparent };
}
