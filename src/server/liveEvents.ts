import type { Context } from 'hono';
import { type SSEStreamingApi, streamSSE } from 'hono/streaming';
import { createMemoryCheckpointStore, type EventStore, type RecordedEvent } from '../core/index.js';
import type { ApiEnv } from './apiEnv.js';
import { HttpProblem } from './problem.js';
import { toApiEvent } from './wireFormat.js';

export interface LiveEventsOptions {
  store: EventStore;
  /** Concurrent live streams; more get 503. Default 100. */
  maxClients?: number;
  /** Comment lines keep proxies from closing idle streams. Default 15 s. */
  heartbeatMs?: number;
  /** A stream that ended on an error (the store failed). */
  onError?: (error: unknown) => void;
}

export interface LiveEvents {
  /** Streams events from `from` (inclusive; default: after the head) as they are appended. */
  handle(
    c: Context<ApiEnv>,
    from: number | undefined,
    types: readonly string[] | undefined,
    /** What the caller may see of each event (e.g. personal data redacted); `undefined` skips it. */
    show?: (event: RecordedEvent) => RecordedEvent | undefined | Promise<RecordedEvent | undefined>,
  ): Response;
  /** Ends every open stream (server shutdown). */
  closeAll(): Promise<void>;
  readonly clients: number;
}

/**
 * Where a live stream starts: right after the `Last-Event-ID` a reconnecting EventSource sends,
 * else at `from` (undefined: only new events).
 */
export function resumePosition(c: Context<ApiEnv>, from: number | undefined): number | undefined {
  const lastId = c.req.header('last-event-id');
  if (lastId === undefined || lastId.trim() === '') return from;
  if (!/^\d{1,15}$/.test(lastId.trim())) {
    throw new HttpProblem('validation-failed', {
      detail: 'Last-Event-ID must be the position of an event this stream sent',
      errors: [
        {
          pointer: 'header:Last-Event-ID',
          field: 'headers.last-event-id',
          message: 'must be a position',
        },
      ],
    });
  }
  return Number(lastId.trim()) + 1;
}

/**
 * Server-sent events of the global log. Each event is `id: <position>` and `data: <event
 * JSON>`, so a reconnecting EventSource sends `Last-Event-ID` and resumes right after the
 * last event it got. A first `ready` event carries the head position at connect time.
 */
export function createLiveEvents(options: LiveEventsOptions): LiveEvents {
  const { store } = options;
  const maxClients = options.maxClients ?? 100;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const onError = options.onError;
  const open = new Set<{ stream: SSEStreamingApi; done: Promise<void> }>();
  let counter = 0;

  return {
    get clients() {
      return open.size;
    },
    handle(c, from, types, show = (event) => event) {
      if (open.size >= maxClients) {
        throw new HttpProblem('unavailable', {
          detail: `${maxClients} live streams are open already; retry later`,
          headers: { 'retry-after': '5' },
        });
      }
      const name = `live-${++counter}`;
      return streamSSE(c, async (stream) => {
        let finish = (): void => undefined;
        const done = new Promise<void>((resolve) => (finish = resolve));
        const entry = { stream, done };
        open.add(entry);
        stream.onAbort(() => finish());
        try {
          // Resolve "after the head" now, before telling the client it is connected, so an
          // event appended right after the `ready` event is always delivered.
          const head = await store.headPosition();
          const start = from ?? head + 1;
          await stream.writeSSE({
            event: 'ready',
            data: JSON.stringify({ head, from: start }),
            retry: 2000,
          });
          const subscription = store.subscribe({
            name,
            from: start,
            checkpoints: createMemoryCheckpointStore(),
            ...(types !== undefined ? { eventTypes: types } : {}),
            retry: { maxAttempts: 1 },
            onPoison: 'stop',
            handler: async (event: RecordedEvent) => {
              if (stream.aborted) return;
              const shown = await show(event);
              if (shown === undefined || stream.aborted) return;
              await stream.writeSSE({
                id: String(event.position),
                data: JSON.stringify(toApiEvent(shown)),
              });
            },
          });
          void subscription.done.catch(() => undefined).finally(() => finish());
          const heartbeat = setInterval(() => void stream.write(': keep-alive\n\n'), heartbeatMs);
          heartbeat.unref();
          await done;
          clearInterval(heartbeat);
          await subscription.stop();
        } catch (error) {
          // The headers are sent: all that is left is to tell the client and end the stream
          // (an EventSource reconnects with Last-Event-ID).
          await stream.writeSSE({
            event: 'error',
            data: JSON.stringify({ detail: 'The event store is unavailable; reconnect shortly' }),
          });
          onError?.(error);
        } finally {
          open.delete(entry);
        }
      });
    },
    async closeAll() {
      const entries = [...open];
      for (const { stream } of entries) stream.abort();
      await Promise.all(entries.map((e) => e.done));
    },
  };
}
