import { SpanKind } from '@opentelemetry/api';
import { inSpan, tracingEnabled } from './tracing.js';
import type { EventStore } from './types.js';

/** The `db.system.name` of each store, per the OpenTelemetry database conventions. */
export type StoreSystem = 'memory' | 'sqlite' | 'mongodb';

/**
 * Without an SDK, the call itself (as a promise even if it throws): no span wrapper, closure
 * or extra await on the hot path of every append and read. `undefined` when tracing is on.
 */
function untraced<T>(call: () => Promise<T>): Promise<T> | undefined {
  if (tracingEnabled()) return undefined;
  try {
    return call();
  } catch (error) {
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- passed on as thrown
    return Promise.reject(error);
  }
}

/**
 * Every store's reads and appends as client spans, following the OpenTelemetry database
 * semantic conventions (`db.system.name`, `db.operation.name`) with Eventloom's own
 * `eventloom.*` attributes: `append`, `read` (one stream) and `read_all`. The stores apply it
 * themselves, outermost, so an append through the personal-data layer is traced too. Without
 * an SDK the spans are no-ops and no attribute is built.
 */
export function withStoreTracing<S extends EventStore>(store: S, system: StoreSystem): S {
  const base = { 'db.system.name': system };
  return {
    ...store,
    appendToStream: (streamId, events, options) =>
      untraced(() => store.appendToStream(streamId, events, options)) ??
      inSpan(
        'append',
        {
          kind: SpanKind.CLIENT,
          attributes: () => ({
            ...base,
            'db.operation.name': 'append',
            'eventloom.stream.id': String(streamId),
            'eventloom.event.count': Array.isArray(events) ? events.length : 0,
            'eventloom.expected_version': String(options?.expectedVersion ?? 'any'),
          }),
        },
        async (span) => {
          const result = await store.appendToStream(streamId, events, options);
          if (span.isRecording()) {
            span.setAttributes({
              'eventloom.next_expected_version': result.nextExpectedVersion,
              'eventloom.last_position': result.lastPosition,
            });
          }
          return result;
        },
      ),
    readStream: (streamId, options) =>
      untraced(() => store.readStream(streamId, options)) ??
      inSpan(
        'read',
        {
          kind: SpanKind.CLIENT,
          attributes: () => ({
            ...base,
            'db.operation.name': 'read',
            'eventloom.stream.id': String(streamId),
            'eventloom.read.direction': options?.direction ?? 'forwards',
            ...(options?.from !== undefined ? { 'eventloom.read.from': options.from } : {}),
          }),
        },
        async (span) => {
          const events = await store.readStream(streamId, options);
          if (span.isRecording()) span.setAttribute('db.response.returned_rows', events.length);
          return events;
        },
      ),
    readAll: (options) =>
      untraced(() => store.readAll(options)) ??
      inSpan(
        'read_all',
        {
          kind: SpanKind.CLIENT,
          attributes: () => ({
            ...base,
            'db.operation.name': 'read_all',
            'eventloom.read.from': options?.from ?? 0,
          }),
        },
        async (span) => {
          const events = await store.readAll(options);
          if (span.isRecording()) span.setAttribute('db.response.returned_rows', events.length);
          return events;
        },
      ),
  };
}
