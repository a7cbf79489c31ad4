import { isStoreCorruptedError, StoreUnavailableError } from '../core/errors.js';
import type { RecordedEvent } from '../core/types.js';
import { isDuplicateKey } from './mongoErrors.js';
import { eventsOfCommit as toEvents, type MongoCollections } from './mongoSchema.js';

/**
 * The global order of a MongoDB event store (see docs/mongodb-global-order.md). Writers
 * reserve positions from a counter and then commit there; readers never read past a hole —
 * positions reserved by a writer that has not committed yet — so a subscriber never skips an
 * event that a slower writer commits late. A hole older than `gapTimeoutMs` is closed with gap
 * markers; a writer that then commits there collides on `_id` and reserves again.
 */
export interface MongoGlobalLog {
  /** Reserves `count` consecutive positions and returns the last of them. */
  reserve(count: number): Promise<number>;
  /**
   * Marks reserved positions `first..last` that will never hold events (a refused or lost
   * commit), so readers need not wait for them to time out.
   */
  release(first: number, last: number): Promise<void>;
  /** Events in global order from position `from`, stopping at the first hole. */
  read(from: number, maxCount: number | undefined): Promise<RecordedEvent[]>;
  /** The last position holding an event below the first hole: the head readers can reach. */
  head(): Promise<number>;
}

export interface MongoGlobalLogOptions {
  /** How long a hole may stay open before readers close it. */
  gapTimeoutMs: number;
  /** Told when a stale hole was closed. */
  notice: (message: string) => void;
}

interface Scanned {
  events: RecordedEvent[];
  /** Every position from the scan's start up to here holds a commit or a gap marker. */
  through: number;
  /** The last position holding an event up to `through` (0 when none). */
  lastEvent: number;
}

/** The global order over the `log` and `counters` collections. */
export function createMongoGlobalLog(
  c: Pick<MongoCollections, 'log' | 'counters'>,
  { gapTimeoutMs, notice }: MongoGlobalLogOptions,
): MongoGlobalLog {
  /** First time each hole (by its first position) was seen by this process. */
  const holesSeen = new Map<number, number>();
  /** Every position up to here holds a commit or a gap marker: nothing can appear below it. */
  let settled = 0;
  /** The last position holding an event up to `settled`. */
  let headEvent = 0;

  /** Takes in what a scan learned, when it started inside the settled prefix. */
  const advanceHead = (from: number, scanned: Scanned): void => {
    if (from > settled + 1) return;
    settled = Math.max(settled, scanned.through);
    headEvent = Math.max(headEvent, scanned.lastEvent);
  };

  const lastPositionBefore = async (position: number): Promise<number> => {
    const before = await c.log
      .find({ lastPosition: { $lt: position } }, { projection: { lastPosition: 1 } })
      .sort({ lastPosition: -1 })
      .limit(1)
      .next();
    return before?.lastPosition ?? 0;
  };

  const closeHole = async (start: number, end: number): Promise<void> => {
    for (let p = start; p <= end; p++) {
      try {
        await c.log.insertOne({ _id: p, lastPosition: p, gap: true });
      } catch (error) {
        // Occupied: a writer committed there after all. Rescan from the top.
        if (isDuplicateKey(error)) return;
        throw error;
      }
    }
    notice(
      `closed a stale hole in the global order at positions ${start}..${end} (a writer allocated them more than ${gapTimeoutMs} ms ago and never committed)`,
    );
  };

  /**
   * Reads the log from `from` in position order and stops at the first hole. Gap markers are
   * stepped over, so a page is full unless the end or a hole is reached. A stale hole is
   * closed position by position from its start.
   */
  const scan = async (
    from: number,
    maxCount: number | undefined,
    eventsWanted: boolean,
  ): Promise<Scanned> => {
    const out: RecordedEvent[] = [];
    let expect = Math.max(1, from);
    let lastEvent = 0;
    /** lastPosition of the previous log document of this scan. */
    let previous: number | undefined;
    const cursor = c.log
      .find(
        { lastPosition: { $gte: expect } },
        eventsWanted ? {} : { projection: { lastPosition: 1, gap: 1 } },
      )
      .sort({ lastPosition: 1 })
      // No limit: gap markers and multi-event commits make documents and events differ in
      // number; the loop stops once the page is full.
      .batchSize(maxCount === undefined ? 1000 : Math.min(1000, Math.max(16, maxCount)));
    try {
      for await (const d of cursor) {
        if (d._id > expect) {
          // A hole. It starts right after the last document below it — which, at the very
          // start of a scan, may lie before `from`: a pending writer may own positions on
          // both sides of `from`.
          const holeStart = (previous ?? (await lastPositionBefore(expect))) + 1;
          const firstSeen = holesSeen.get(holeStart);
          const now = Date.now();
          if (firstSeen === undefined) holesSeen.set(holeStart, now);
          else if (now - firstSeen >= gapTimeoutMs) {
            await closeHole(holeStart, d._id - 1);
            holesSeen.delete(holeStart);
          }
          break;
        }
        if (!('gap' in d)) {
          if (eventsWanted) {
            let events: RecordedEvent[];
            try {
              events = toEvents(d);
            } catch (error) {
              // Hand out the events before a corrupt document first; the read that starts at
              // it fails, so a subscriber handles everything up to it and then stops loudly.
              if (out.length > 0 && isStoreCorruptedError(error)) break;
              throw error;
            }
            for (const e of events) {
              if (e.position >= expect && (maxCount === undefined || out.length < maxCount))
                out.push(e);
            }
          }
          lastEvent = d.lastPosition;
        }
        previous = d.lastPosition;
        expect = d.lastPosition + 1;
        if (maxCount !== undefined && out.length >= maxCount) break;
      }
    } finally {
      await cursor.close();
    }
    for (const start of holesSeen.keys()) if (start < expect) holesSeen.delete(start);
    return { events: out, through: expect - 1, lastEvent };
  };

  const incrementCounter = async (count: number): Promise<number> => {
    const counter = await c.counters.findOneAndUpdate(
      { _id: 'position' },
      { $inc: { value: count } },
      { upsert: true, returnDocument: 'after' },
    );
    if (!counter)
      throw new StoreUnavailableError('The position counter could not be read back; retry');
    return counter.value;
  };

  interface Reservation {
    count: number;
    resolve: (last: number) => void;
    reject: (error: unknown) => void;
  }
  let queued: Reservation[] = [];
  let inFlight = false;
  /**
   * One round trip to the counter at a time: reservations that arrive while one is on the
   * wire share the next `$inc` of their summed counts and split its range in arrival order.
   * Concurrent appends then cost one counter round trip per group instead of one each (they
   * would queue on the counter document's lock on the server anyway); a lone one goes at once.
   */
  const reserveQueued = async (): Promise<void> => {
    while (queued.length > 0) {
      const group = queued;
      queued = [];
      const total = group.reduce((sum, r) => sum + r.count, 0);
      try {
        let last = (await incrementCounter(total)) - total;
        for (const r of group) r.resolve((last += r.count));
      } catch (error) {
        for (const r of group) r.reject(error);
      }
    }
    inFlight = false;
  };

  return {
    reserve(count) {
      return new Promise<number>((resolve, reject) => {
        queued.push({ count, resolve, reject });
        if (!inFlight) {
          inFlight = true;
          void reserveQueued();
        }
      });
    },

    async release(first, last) {
      try {
        await c.log.insertOne({ _id: first, lastPosition: last, gap: true });
      } catch (error) {
        // Someone (a reader closing a stale hole) already marked it.
        if (!isDuplicateKey(error)) throw error;
      }
    },

    async read(from, maxCount) {
      const scanned = await scan(from, maxCount, true);
      advanceHead(from, scanned);
      return scanned.events;
    },

    async head() {
      for (;;) {
        const before = settled;
        advanceHead(settled + 1, await scan(settled + 1, 5000, false));
        if (settled <= before) return headEvent;
      }
    },
  };
}
