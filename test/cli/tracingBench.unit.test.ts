import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runTracingBench } from '../../src/bench/tracingBench.js';
import { tracingEnabled } from '../../src/core/tracing.js';

describe('the tracing benchmark', () => {
  it('reports the noise floor, tracing off and tracing on beside the untraced run and leaves no SDK registered', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eventloom-tracing-bench-'));
    try {
      const rows = await runTracingBench(
        { scale: 0.005, rounds: 1, progress: () => undefined },
        dir,
      );
      expect(rows.map((r) => r.workload)).toEqual([
        'append-single-untraced-twice',
        'append-single-tracing-off',
        'append-single-tracing-on',
      ]);
      for (const row of rows) {
        expect(row.eventsPerSec).toBeGreaterThan(0);
        expect(row.baselinePerSec).toBeGreaterThan(0);
      }
      expect(tracingEnabled()).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
