/**
 * One side of the `catch-up-1m` row, run in its own process so its peak RSS is its own: a
 * parent that ran other rows first has a heap those rows grew, which would be counted against
 * this workload. Run as `node catchUpChild.js <ours|raw> <db file> <events>`; sends
 * `{ ms, peakRssMb }` to the parent over IPC. Peak RSS is the kernel's high-water mark
 * (`getrusage` maxrss, the same number as VmHWM in /proc/<pid>/status), so no sample can miss
 * a short spike.
 */
import BetterSqlite3 from 'better-sqlite3';
import { createSqliteEventStore } from '../sqlite/sqliteEventStore.js';
import { parseRawEventRow, type RawEventRow } from './rawSqliteRows.js';

export interface CatchUpChildResult {
  ms: number;
  peakRssMb: number;
}

async function ours(path: string, events: number): Promise<number> {
  const store = createSqliteEventStore({ path });
  let seen = 0;
  const head = await store.headPosition();
  const start = process.hrtime.bigint();
  const sub = store.subscribe({ name: `catch-up-1m-${Date.now()}`, handler: () => void seen++ });
  await sub.waitFor(head, 3_600_000);
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  await sub.stop();
  await store.close();
  if (seen !== events) throw new Error(`catch-up-1m saw ${seen} of ${events} events`);
  return ms;
}

function raw(path: string, events: number): number {
  const db = new BetterSqlite3(path, { readonly: true });
  const page = db.prepare(
    'SELECT * FROM eventloom_events WHERE position >= ? ORDER BY position LIMIT 500',
  );
  const start = process.hrtime.bigint();
  let seen = 0;
  for (let from = 0; ;) {
    const got = (page.all(from) as RawEventRow[]).map(parseRawEventRow);
    if (got.length === 0) break;
    for (const _ of got) seen++;
    from = (got[got.length - 1] as { position: number }).position + 1;
  }
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  db.close();
  if (seen !== events) throw new Error(`baseline catch-up-1m saw ${seen} of ${events} events`);
  return ms;
}

const [mode, path, count] = process.argv.slice(2);
if (process.send && path && count) {
  const events = Number(count);
  const ms = mode === 'ours' ? await ours(path, events) : raw(path, events);
  const result: CatchUpChildResult = {
    ms,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  process.send(result, () => process.exit(0));
}
