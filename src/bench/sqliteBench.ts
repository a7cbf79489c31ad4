import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import { newEventId } from '../core/eventId.js';
import type { EventData } from '../core/types.js';
import { createSqliteEventStore, type SqliteEventStore } from '../sqlite/sqliteEventStore.js';
import { runPersonalDataBench } from './personalDataBench.js';
import { runTracingBench } from './tracingBench.js';
import {
  appendConcurrently,
  appendSingles,
  type BenchOptions,
  type BenchRow,
  compare,
  time,
  type Timed,
  benchPayload,
  wanted,
} from './benchHarness.js';
import type { CatchUpChildResult } from './catchUpChild.js';
import { parseRawEventRow, type RawEventRow } from './rawSqliteRows.js';

/**
 * The raw better-sqlite3 baseline: the table an event store needs (id, stream, version,
 * position, type, JSON data and metadata, unique stream+version), the same pragmas as the
 * store, plain prepared statements, and for every append a transaction that reads the
 * stream's current version first.
 */
class RawSqlite {
  readonly db: BetterSqlite3.Database;
  readonly appendOne: (streamId: string, e: EventData, id: string) => void;
  readonly appendMany: (streamId: string, es: EventData[], ids: string[]) => void;
  readonly readStream: (streamId: string) => unknown[];
  readonly readAll: (from: number, max: number) => { position: number }[];

  constructor(path: string) {
    this.db = new BetterSqlite3(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`CREATE TABLE events (
      position INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE, stream_id TEXT NOT NULL,
      version INTEGER NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL, metadata TEXT NOT NULL,
      recorded_at INTEGER NOT NULL, UNIQUE (stream_id, version))`);
    const current = this.db.prepare('SELECT MAX(version) FROM events WHERE stream_id = ?').pluck();
    const insert = this.db.prepare(
      'INSERT INTO events (event_id, stream_id, version, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    const one = this.db.transaction((streamId: string, e: EventData, id: string) => {
      const v = ((current.get(streamId) as number | null) ?? 0) + 1;
      insert.run(
        id,
        streamId,
        v,
        e.type,
        JSON.stringify(e.data),
        JSON.stringify(e.metadata ?? {}),
        Date.now(),
      );
    });
    const many = this.db.transaction((streamId: string, es: EventData[], ids: string[]) => {
      let v = (current.get(streamId) as number | null) ?? 0;
      const now = Date.now();
      es.forEach((e, i) =>
        insert.run(
          ids[i],
          streamId,
          ++v,
          e.type,
          JSON.stringify(e.data),
          JSON.stringify(e.metadata ?? {}),
          now,
        ),
      );
    });
    this.appendOne = (s, e, id) => one.immediate(s, e, id);
    this.appendMany = (s, es, ids) => many.immediate(s, es, ids);
    const byStream = this.db.prepare('SELECT * FROM events WHERE stream_id = ? ORDER BY version');
    const all = this.db.prepare(
      'SELECT * FROM events WHERE position >= ? ORDER BY position LIMIT ?',
    );
    const parse = parseRawEventRow;
    type Row = RawEventRow;
    this.readStream = (s) => (byStream.all(s) as Row[]).map(parse);
    this.readAll = (from, max) => (all.all(from, max) as Row[]).map(parse);
  }
}

export async function runSqliteBench(options: BenchOptions): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'eventloom-bench-'));
  let files = 0;
  const freshStore = (): SqliteEventStore =>
    createSqliteEventStore({ path: join(dir, `ours-${files++}.db`) });
  const freshRaw = (): RawSqlite => new RawSqlite(join(dir, `raw-${files++}.db`));
  const n = (base: number): number => Math.max(100, Math.round(base * options.scale));
  const rows: BenchRow[] = [];
  // The baseline generates ids exactly as the store does.
  const nextId = (): string => newEventId();

  try {
    // append-single: one event per append to many streams, each append checking the version.
    const singles = n(20_000);
    const streams = 1000;
    const sequentialBaseline = async (): Promise<Timed> => {
      const raw = freshRaw();
      const t = await time(singles, () => {
        for (let i = 0; i < singles; i++)
          raw.appendOne(`cart-${i % streams}`, benchPayload(i), nextId());
      });
      raw.db.close();
      return t;
    };
    if (wanted(options, 'append-single'))
      rows.push(
        await compare(
          'sqlite',
          'append-single',
          options,
          () => appendSingles(freshStore(), singles, streams),
          sequentialBaseline,
        ),
      );

    // append-single-concurrent: 32 callers appending single events at once (group commit)
    // against the same baseline committing each append on its own, one after the other.
    if (wanted(options, 'append-single-concurrent'))
      rows.push({
        ...(await compare(
          'sqlite',
          'append-single-concurrent',
          options,
          async () => {
            const store = freshStore();
            const t = await appendConcurrently(store, singles, 32);
            await store.close();
            return t;
          },
          sequentialBaseline,
        )),
        notes: { callers: 32, baseline: 'sequential single appends, one transaction each' },
      });

    // append-batch-100: 100 events per append.
    const batches = Math.max(10, Math.round(n(30_000) / 100));
    const batch = Array.from({ length: 100 }, (_, i) => benchPayload(i));
    if (wanted(options, 'append-batch-100'))
      rows.push(
        await compare(
          'sqlite',
          'append-batch-100',
          options,
          async () => {
            const store = freshStore();
            const t = await time(batches * 100, async () => {
              for (let b = 0; b < batches; b++)
                await store.appendToStream(`order-${b % 30}`, batch);
            });
            await store.close();
            return t;
          },
          async () => {
            const raw = freshRaw();
            const t = await time(batches * 100, () => {
              for (let b = 0; b < batches; b++)
                raw.appendMany(`order-${b % 30}`, batch, batch.map(nextId));
            });
            raw.db.close();
            return t;
          },
        ),
      );

    // Reads: the same data written once into each side's tables.
    const reads = ['read-stream', 'read-all', 'catch-up'].filter((w) => wanted(options, w));
    if (reads.length > 0) await readWorkloads(reads);
    if (wanted(options, 'catch-up-1m')) rows.push(await catchUpMillion());
    const personal = ['append-single-personal', 'read-all-personal'];
    if (personal.some((w) => wanted(options, w)))
      rows.push(...(await runPersonalDataBench(options, dir)));
    const tracing = [
      'append-single-untraced-twice',
      'append-single-tracing-off',
      'append-single-tracing-on',
    ];
    if (tracing.some((w) => wanted(options, w)))
      rows.push(...(await runTracingBench(options, dir)));
    return rows.filter((r) => wanted(options, r.workload));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  async function readWorkloads(reads: string[]): Promise<void> {
    const readStreams = Math.max(10, Math.round(n(40_000) / 200));
    const store = freshStore();
    const raw = freshRaw();
    options.progress(`sqlite: preparing ${readStreams * 200} events for the read workloads`);
    for (let s = 0; s < readStreams; s++) {
      const events = Array.from({ length: 200 }, (_, i) => benchPayload(s * 200 + i));
      await store.appendToStream(`ledger-${s}`, events);
      raw.appendMany(`ledger-${s}`, events, events.map(nextId));
    }
    const total = readStreams * 200;

    if (reads.includes('read-stream'))
      rows.push(
        await compare(
          'sqlite',
          'read-stream',
          options,
          () =>
            time(total, async () => {
              for (let s = 0; s < readStreams; s++) await store.readStream(`ledger-${s}`);
            }),
          () =>
            time(total, () => {
              for (let s = 0; s < readStreams; s++) raw.readStream(`ledger-${s}`);
            }),
        ),
      );

    const page = 1000;
    if (reads.includes('read-all'))
      rows.push(
        await compare(
          'sqlite',
          'read-all',
          options,
          () =>
            time(total, async () => {
              for (let from = 0; ;) {
                const got = await store.readAll({ from, maxCount: page });
                if (got.length === 0) break;
                from = (got[got.length - 1] as { position: number }).position + 1;
              }
            }),
          () =>
            time(total, () => {
              for (let from = 0; ;) {
                const got = raw.readAll(from, page);
                if (got.length === 0) break;
                from = (got[got.length - 1] as { position: number }).position + 1;
              }
            }),
        ),
      );

    // catch-up: a subscriber reading the whole log from the start with the default batch size.
    let subs = 0;
    if (reads.includes('catch-up'))
      rows.push(
        await compare(
          'sqlite',
          'catch-up',
          options,
          async () => {
            let seen = 0;
            const head = await store.headPosition();
            const sub = store.subscribe({ name: `bench-${subs++}`, handler: () => void seen++ });
            const t = await time(total, () => sub.waitFor(head, 600_000));
            await sub.stop();
            if (seen !== total) throw new Error(`catch-up saw ${seen} of ${total} events`);
            return t;
          },
          () =>
            time(total, () => {
              let seen = 0;
              for (let from = 0; ;) {
                const got = raw.readAll(from, 500);
                if (got.length === 0) break;
                for (const _ of got) seen++;
                from = (got[got.length - 1] as { position: number }).position + 1;
              }
              if (seen !== total) throw new Error('baseline catch-up miscounted');
            }),
        ),
      );
    await store.close();
    raw.db.close();
  }

  /**
   * catch-up-1m: a subscriber catching up over a million stored events (written beforehand,
   * untimed), against a raw connection reading the same file's events in order. Each side
   * runs in its own process (see catchUpChild.ts) so the row reports that side's peak RSS.
   */
  async function catchUpMillion(): Promise<BenchRow> {
    const events = Math.max(1000, Math.round(1_000_000 * options.scale));
    const path = join(dir, `catch-up-1m-${files++}.db`);
    options.progress(`sqlite: writing ${events} events for catch-up-1m`);
    const store = createSqliteEventStore({ path });
    for (let written = 0; written < events;) {
      const size = Math.min(5000, events - written);
      await store.appendToStream(
        `ledger-${written % 200}`,
        Array.from({ length: size }, (_, i) => benchPayload(written + i)),
      );
      written += size;
    }
    await store.close();
    const peaks = { ours: 0, raw: 0 };
    const side = (mode: 'ours' | 'raw') => async (): Promise<Timed> => {
      const r = await runCatchUpChild(mode, path, events);
      peaks[mode] = Math.max(peaks[mode], r.peakRssMb);
      return { events, ms: r.ms };
    };
    const row = await compare('sqlite', 'catch-up-1m', options, side('ours'), side('raw'));
    options.progress(
      `sqlite catch-up-1m: peak RSS eventloom ${peaks.ours} MB, baseline ${peaks.raw} MB`,
    );
    return {
      ...row,
      notes: { events, peakRssMb: peaks.ours, baselinePeakRssMb: peaks.raw },
    };
  }
}

const catchUpChild = fileURLToPath(new URL('./catchUpChild.js', import.meta.url));

function runCatchUpChild(
  mode: 'ours' | 'raw',
  path: string,
  events: number,
): Promise<CatchUpChildResult> {
  return new Promise((resolve, reject) => {
    const child = fork(catchUpChild, [mode, path, String(events)], { stdio: 'inherit' });
    let result: CatchUpChildResult | undefined;
    child.on('message', (m) => void (result = m as CatchUpChildResult));
    child.on('error', reject);
    child.on('exit', (code) =>
      result
        ? resolve(result)
        : reject(new Error(`the catch-up-1m ${mode} process exited with code ${code}`)),
    );
  });
}
