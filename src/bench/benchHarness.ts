/** Shared shape and timing for every backend's benchmark. */
import type { EventData, EventStore } from '../core/types.js';

/** The event every workload writes: a typical small command result (~200 bytes of JSON). */
export const benchPayload = (i: number): EventData => ({
  type: 'ItemAdded',
  data: {
    sku: `SKU-${i % 997}`,
    quantity: (i % 5) + 1,
    price: 1999,
    note: 'benchmark payload of a typical size',
  },
  metadata: { correlationId: `c-${i}`, userId: 'u-1' },
});

export interface BenchRow {
  backend: string;
  workload: string;
  eventsPerSec: number;
  baselinePerSec: number;
  ratio: number;
  /** Extra numbers a workload reports (latency percentiles, counts). */
  notes?: Record<string, number | string>;
}

export interface BenchOptions {
  /** Multiplies every workload's size (0.1 for a smoke run). */
  scale: number;
  /** Rounds per workload; the median round counts. */
  rounds: number;
  progress: (message: string) => void;
}

export interface Timed {
  events: number;
  ms: number;
}

export async function time(events: number, fn: () => Promise<void> | void): Promise<Timed> {
  const start = process.hrtime.bigint();
  await fn();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  return { events, ms };
}

/**
 * append-single: `count` appends of one event each over `streams` streams, each append
 * checking the version; closes the store afterwards.
 */
export async function appendSingles(
  store: EventStore,
  count: number,
  streams = 1000,
): Promise<Timed> {
  const versions = new Array<number>(streams).fill(0);
  const t = await time(count, async () => {
    for (let i = 0; i < count; i++) {
      const s = i % streams;
      await store.appendToStream(`cart-${s}`, [benchPayload(i)], { expectedVersion: versions[s] });
      versions[s] = (versions[s] as number) + 1;
    }
  });
  await store.close();
  return t;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

/**
 * Runs ours and the baseline alternately for `rounds` rounds (so both see the same machine
 * state) and reports median throughputs and their ratio.
 */
export async function compare(
  backend: string,
  workload: string,
  options: BenchOptions,
  ours: (round: number) => Promise<Timed>,
  baseline: (round: number) => Promise<Timed>,
): Promise<BenchRow> {
  const oursRates: number[] = [];
  const baseRates: number[] = [];
  for (let round = 0; round < options.rounds; round++) {
    const b = await baseline(round);
    baseRates.push((b.events / b.ms) * 1000);
    const o = await ours(round);
    oursRates.push((o.events / o.ms) * 1000);
    options.progress(
      `${backend} ${workload} round ${round + 1}/${options.rounds}: eventloom ${Math.round(
        oursRates.at(-1) as number,
      )}/s, baseline ${Math.round(baseRates.at(-1) as number)}/s`,
    );
  }
  const eventsPerSec = Math.round(median(oursRates));
  const baselinePerSec = Math.round(median(baseRates));
  return {
    backend,
    workload,
    eventsPerSec,
    baselinePerSec,
    ratio: Math.round((eventsPerSec / baselinePerSec) * 100) / 100,
  };
}

export function formatTable(rows: readonly BenchRow[]): string {
  const header = ['backend', 'workload', 'events/s', 'baseline/s', 'ratio'];
  const body = rows.map((r) => [
    r.backend,
    r.workload,
    String(r.eventsPerSec),
    String(r.baselinePerSec),
    r.ratio.toFixed(2),
  ]);
  const widths = header.map((h, i) =>
    Math.max(h.length, ...body.map((b) => (b[i] as string).length)),
  );
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i < 2 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number)))
      .join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
