import { join } from 'node:path';
import { ExportResultCode } from '@opentelemetry/core';
import type { SpanExporter } from '@opentelemetry/sdk-trace-node';
import { withStoreTracing } from '../core/storeTracing.js';
import type { EventStore } from '../core/types.js';
import { createMetricsRegistry } from '../node/metricsRegistry.js';
import { startTelemetry } from '../node/telemetry.js';
import { createSqliteEventStore } from '../sqlite/sqliteEventStore.js';
import { appendSingles, type BenchOptions, type BenchRow, compare } from './benchHarness.js';

/** Takes every batch and throws it away: the SDK's whole cost, none of a collector's. */
const discardingExporter: SpanExporter = {
  export: (_spans, done) => done({ code: ExportResultCode.SUCCESS }),
  shutdown: () => Promise.resolve(),
};

/**
 * The cost of tracing on append-single (SQLite), in the same process as the untraced run:
 *
 * - `append-single-untraced-twice`: the untraced run against itself, the noise floor.
 * - `append-single-tracing-off`: no SDK registered (the default). The store's tracing layer
 *   cannot be removed, so its cost is measured as one more such layer around the same store
 *   (ours) against the store as shipped (baseline).
 * - `append-single-tracing-on`: the Node SDK registered as `eventloom start` registers it
 *   (sampler always_on, the bounded batch processor) with an exporter that discards, against
 *   the same store with no SDK.
 */
export async function runTracingBench(options: BenchOptions, dir: string): Promise<BenchRow[]> {
  let files = 0;
  const open = (): EventStore =>
    createSqliteEventStore({ path: join(dir, `tracing-${files++}.db`) });
  const singles = Math.max(100, Math.round(20_000 * options.scale));
  const untraced = () => appendSingles(open(), singles);
  const rows: BenchRow[] = [];
  // The noise floor: the same untraced store on both sides. A tracing row whose ratio is
  // within this row's distance from 1.00 measured nothing but the machine.
  rows.push({
    ...(await compare('sqlite', 'append-single-untraced-twice', options, untraced, untraced)),
    notes: { baseline: 'the same store, no SDK, on both sides' },
  });
  rows.push({
    ...(await compare(
      'sqlite',
      'append-single-tracing-off',
      options,
      () => appendSingles(withStoreTracing(open(), 'sqlite'), singles),
      untraced,
    )),
    notes: { baseline: 'the same store, no SDK; ours adds one more no-SDK tracing layer' },
  });
  rows.push({
    ...(await compare(
      'sqlite',
      'append-single-tracing-on',
      options,
      async () => {
        const telemetry = await startTelemetry({
          defaultServiceName: 'eventloom-bench',
          env: { OTEL_TRACES_SAMPLER: 'always_on' },
          metrics: createMetricsRegistry(),
          exporter: discardingExporter,
        });
        try {
          return await appendSingles(open(), singles);
        } finally {
          await telemetry.shutdown();
        }
      },
      untraced,
    )),
    notes: { baseline: 'the same store, no SDK', sampler: 'always_on (1.0)' },
  });
  return rows;
}
