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
  /** Only these workloads run (all when absent); see {@link BENCH_WORKLOADS}. */
  workloads?: readonly string[];
}

/** Every backend's workloads, in the order they run; what `--backend`/`--workload` accept. */
export const BENCH_WORKLOADS: Readonly<Record<string, readonly string[]>> = {
  sqlite: [
    'append-single',
    'append-single-concurrent',
    'append-batch-100',
    'read-stream',
    'read-all',
    'catch-up',
    'catch-up-1m',
    'append-single-personal',
    'read-all-personal',
    'append-single-untraced-twice',
    'append-single-tracing-off',
    'append-single-tracing-on',
  ],
  mongodb: [
    'append-single',
    'append-single-concurrent',
    'append-batch-100',
    'read-stream',
    'read-all',
  ],
  kafka: ['publish-kafka', 'e2e-latency-kafka'],
  relay: ['relay-kafka', 'relay-webhook'],
  http: ['http-command'],
};

/** Whether `workload` was asked for (every workload is, without a `--workload` filter). */
export const wanted = (options: Pick<BenchOptions, 'workloads'>, workload: string): boolean =>
  !options.workloads || options.workloads.includes(workload);

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

/**
 * append-single-concurrent: `callers` callers at once, each appending `count / callers` single
 * events one at a time (awaiting each) to its own streams, each append checking the version.
 * Does not close the store.
 */
export async function appendConcurrently(
  store: EventStore,
  count: number,
  callers = 32,
  streamsPerCaller = 30,
): Promise<Timed> {
  const each = Math.ceil(count / callers);
  const caller = async (c: number): Promise<void> => {
    const versions = new Array<number>(streamsPerCaller).fill(0);
    for (let i = 0; i < each; i++) {
      const s = i % streamsPerCaller;
      await store.appendToStream(`cart-${c}-${s}`, [benchPayload(i)], {
        expectedVersion: versions[s],
      });
      versions[s] = (versions[s] as number) + 1;
    }
  };
  return time(each * callers, async () => {
    await Promise.all(Array.from({ length: callers }, (_, c) => caller(c)));
  });
}

export const median = (xs: number[]): number => {
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
  options.progress(`${backend} ${workload}: started (${options.rounds} rounds)`);
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
  const ratio = Math.round((eventsPerSec / baselinePerSec) * 100) / 100;
  options.progress(
    `${backend} ${workload}: done, eventloom ${eventsPerSec}/s, baseline ${baselinePerSec}/s, ratio ${ratio.toFixed(2)}`,
  );
  return { backend, workload, eventsPerSec, baselinePerSec, ratio };
}

export function formatTable(rows: readonly BenchRow[]): string {
  const header = ['backend', 'workload', 'events/s', 'baseline/s', 'ratio', 'notes'];
  const body = rows.map((r) => [
    r.backend,
    r.workload,
    String(r.eventsPerSec),
    String(r.baselinePerSec),
    r.ratio.toFixed(2),
    Object.entries(r.notes ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(' '),
  ]);
  const widths = header.map((h, i) =>
    Math.max(h.length, ...body.map((b) => (b[i] as string).length)),
  );
  const line = (cells: string[]): string =>
    cells
      .map((c, i) =>
        i < 2 || i === 5 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number),
      )
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
