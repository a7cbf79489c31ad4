import {
  createMemoryCheckpointStore,
  type EventStore,
  type RecordedEvent,
  storedFormOf,
  type Subscription,
} from '../core/index.js';

export interface EventRateSeries {
  /** Start of the first bucket (ISO). */
  from: string;
  bucketSeconds: number;
  /** Events recorded in each bucket, oldest first; the last bucket is the current one. */
  buckets: { at: string; count: number }[];
  total: number;
  perSecond: number;
}

export interface EventRateTracker {
  start(): Promise<void>;
  series(windowSeconds: number, bucketSeconds: number): EventRateSeries;
  stop(): Promise<void>;
}

/** The tracker keeps this much history (seconds). */
export const RATE_HISTORY_SECONDS = 3600;
/** Events read at start to fill the history. */
const BOOTSTRAP_EVENTS = 10_000;

/**
 * Counts events per second of their recording time for the explorer's rate chart: it tails
 * the global log (events from every process), starting with the last events already stored.
 * Its checkpoint stays in memory: it is a view, not a consumer that must not miss anything.
 */
export function createEventRateTracker(app: EventStore, now = Date.now): EventRateTracker {
  // Only recording times are counted: the stored form spares decrypting every event's
  // personal fields, which every append would otherwise cost once more.
  const store = storedFormOf(app);
  const perSecond = new Map<number, number>();
  let subscription: Subscription | undefined;

  const record = (event: RecordedEvent): void => {
    const second = Math.floor(event.recordedAt.getTime() / 1000);
    if (second < Math.floor(now() / 1000) - RATE_HISTORY_SECONDS) return;
    perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
  };
  const prune = (): void => {
    const cutoff = Math.floor(now() / 1000) - RATE_HISTORY_SECONDS;
    for (const second of perSecond.keys()) if (second < cutoff) perSecond.delete(second);
  };

  return {
    async start() {
      const head = await store.headPosition();
      for (const event of await store.readAll({
        from: Math.max(0, head - BOOTSTRAP_EVENTS + 1),
        maxCount: BOOTSTRAP_EVENTS,
      })) {
        if (event.position <= head) record(event);
      }
      subscription = store.subscribe({
        name: 'eventloom-event-rate',
        from: head + 1,
        checkpoints: createMemoryCheckpointStore(),
        handler: record,
        // One call per read instead of a delivery (and its promises) per event.
        handleBatch: (events) => {
          for (const event of events) record(event);
          return undefined;
        },
      });
    },
    series(windowSeconds, bucketSeconds) {
      prune();
      const nowSecond = Math.floor(now() / 1000);
      const lastBucket = Math.floor(nowSecond / bucketSeconds) * bucketSeconds;
      const count = Math.max(1, Math.ceil(windowSeconds / bucketSeconds));
      const first = lastBucket - (count - 1) * bucketSeconds;
      const buckets = Array.from({ length: count }, (_, i) => ({
        at: new Date((first + i * bucketSeconds) * 1000).toISOString(),
        count: 0,
      }));
      let total = 0;
      for (const [second, n] of perSecond) {
        const index = Math.floor((second - first) / bucketSeconds);
        if (index < 0 || index >= count) continue;
        buckets[index]!.count += n;
        total += n;
      }
      const spanSeconds = nowSecond - first + 1;
      return {
        from: new Date(first * 1000).toISOString(),
        bucketSeconds,
        buckets,
        total,
        perSecond: Math.round((total / spanSeconds) * 100) / 100,
      };
    },
    async stop() {
      await subscription?.stop();
      subscription = undefined;
    },
  };
}
