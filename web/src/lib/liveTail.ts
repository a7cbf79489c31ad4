import type { Problem, StoredEvent } from '../api/types.ts';
import type { LiveStatus } from '../store/appState.ts';

export interface LiveTailOptions {
  /** The live endpoint's URL for a first position (undefined: only new events). */
  url: (from: number | undefined) => string;
  /** First position to receive (inclusive). */
  from: number | undefined;
  onEvents: (events: StoredEvent[]) => void;
  onStatus: (status: LiveStatus, problem?: Problem) => void;
  /**
   * Asked when the server refused the stream (the browser does not retry then): answers a
   * problem to stop with (e.g. 401), or undefined to try again after a backoff.
   */
  diagnose: () => Promise<Problem | undefined>;
  /** Events are handed over in batches at most this often (ms). Default 100. */
  batchMs?: number;
  EventSource?: typeof EventSource;
}

export interface LiveTail {
  close(): void;
}

const MAX_BACKOFF_MS = 30_000;

/**
 * Follows `/api/events/live`. While a connection drops, the browser reconnects by itself and
 * sends `Last-Event-ID` (the position of the last event received), so the server resumes
 * right after it; when the server refuses a connection outright, this opens a new one after
 * a backoff, from the position after the last event received.
 */
export function openLiveTail(options: LiveTailOptions): LiveTail {
  const Source = options.EventSource ?? EventSource;
  const batchMs = options.batchMs ?? 100;
  let source: EventSource | undefined;
  let closed = false;
  let failures = 0;
  let lastPosition = options.from === undefined ? undefined : options.from - 1;
  let buffer: StoredEvent[] = [];
  let flushTimer: ReturnType<typeof setTimeout> | undefined;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;

  const flush = (): void => {
    flushTimer = undefined;
    if (buffer.length === 0 || closed) return;
    const events = buffer;
    buffer = [];
    options.onEvents(events);
  };

  const connect = (): void => {
    if (closed) return;
    options.onStatus(failures === 0 ? 'connecting' : 'reconnecting');
    const es = new Source(options.url(lastPosition === undefined ? undefined : lastPosition + 1));
    source = es;
    es.addEventListener('ready', () => {
      failures = 0;
      options.onStatus('open');
    });
    es.addEventListener('message', (message: MessageEvent<string>) => {
      let event: StoredEvent;
      try {
        event = JSON.parse(message.data) as StoredEvent;
      } catch {
        return; // not an event of ours (a proxy's message): nothing to show
      }
      if (lastPosition !== undefined && event.position <= lastPosition) return;
      lastPosition = event.position;
      buffer.push(event);
      flushTimer ??= setTimeout(flush, batchMs);
    });
    es.addEventListener('error', () => {
      if (closed || source !== es) return;
      if (es.readyState === Source.CONNECTING) {
        options.onStatus('reconnecting'); // the browser retries with Last-Event-ID
        return;
      }
      es.close();
      failures += 1;
      options.onStatus('reconnecting');
      void options.diagnose().then(
        (problem) => {
          if (closed) return;
          if (problem !== undefined) {
            options.onStatus('closed', problem);
            return;
          }
          const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(failures, 6));
          retryTimer = setTimeout(connect, delay);
        },
        () => {
          if (!closed) retryTimer = setTimeout(connect, MAX_BACKOFF_MS);
        },
      );
    });
  };

  connect();
  return {
    close() {
      closed = true;
      source?.close();
      clearTimeout(retryTimer);
      clearTimeout(flushTimer);
      options.onStatus('idle');
    },
  };
}
