import type { RecordedEvent } from './types.js';

/**
 * A recorded event as JSON carries it: the same fields, `recordedAt` as an ISO string. The
 * HTTP API, the Kafka publisher and the relay all send events in this one form.
 */
// A type, not an interface: it is a plain JSON record (assignable to Record<string, unknown>).
export type EventJson = {
  id: string;
  streamId: string;
  type: string;
  data: unknown;
  metadata: Record<string, unknown>;
  version: number;
  position: number;
  recordedAt: string;
};

/**
 * The wire form of an event.
 *
 * @example
 * JSON.stringify(toEventJson(event)); // {"id":"…","streamId":"user-42",…,"recordedAt":"2026-…Z"}
 */
export function toEventJson(event: RecordedEvent): EventJson {
  return {
    id: event.id,
    streamId: event.streamId,
    type: event.type,
    data: event.data,
    metadata: event.metadata,
    version: event.version,
    position: event.position,
    recordedAt: event.recordedAt.toISOString(),
  };
}
