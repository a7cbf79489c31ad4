import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const bin = join(import.meta.dirname, '../../bin/eventloom.js');

/** Runs the built `eventloom bench` as a real process. */
function bench(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [bin, 'bench', ...args], {
      env: { ...process.env, LOG_LEVEL: 'info', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const noStackTrace = (text: string): void => expect(text).not.toMatch(/\n\s+at .+:\d+:\d+/);

describe('eventloom bench (built package)', () => {
  it('runs only the workloads asked for, prints one JSON document on stdout and the progress and a table on stderr', async () => {
    const r = await bench([
      '--json',
      '--scale',
      '0.001',
      '--rounds',
      '1',
      '--workload',
      'append-single-concurrent,catch-up-1m',
    ]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { rows: Record<string, unknown>[] };
    expect(Object.keys(doc)).toEqual(['rows']);
    expect(doc.rows.map((row) => row.workload)).toEqual([
      'append-single-concurrent',
      'catch-up-1m',
    ]);
    for (const row of doc.rows) {
      expect(row).toMatchObject({ backend: 'sqlite' });
      for (const field of ['eventsPerSec', 'baselinePerSec', 'ratio'])
        expect(row[field]).toBeGreaterThan(0);
    }
    const notes = doc.rows[1]!.notes as Record<string, number>;
    expect(notes.peakRssMb).toBeGreaterThan(0);
    expect(notes.events).toBe(1000);
    // A start and an end line per row, as structured log lines.
    const messages = r.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => (JSON.parse(l) as { msg: string }).msg);
    for (const w of ['append-single-concurrent', 'catch-up-1m']) {
      expect(messages).toContainEqual(expect.stringMatching(new RegExp(`^sqlite ${w}: started`)));
      expect(messages).toContainEqual(expect.stringMatching(new RegExp(`^sqlite ${w}: done`)));
    }
    expect(r.stderr).toMatch(/backend\s+workload\s+events\/s\s+baseline\/s\s+ratio/);
    expect(r.stderr).toMatch(
      /sqlite\s+catch-up-1m\s+\d+\s+\d+\s+[\d.]+\s+events=1000 peakRssMb=\d+/,
    );
  });

  it('refuses an unknown workload or backend, listing the valid ones, without a stack trace', async () => {
    const workload = await bench(['--workload', 'append-single,apend-batch']);
    expect(workload.code).toBe(1);
    expect(workload.stderr).toContain("unknown workload 'apend-batch'");
    expect(workload.stderr).toMatch(/available for --backend sqlite: append-single, .*catch-up-1m/);
    noStackTrace(workload.stderr);

    const elsewhere = await bench(['--workload', 'publish-kafka']);
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toContain("workload 'publish-kafka' belongs to backend kafka");

    const backend = await bench(['--backend', 'sqlite,mongo']);
    expect(backend.code).toBe(1);
    expect(backend.stderr).toContain(
      "unknown backend 'mongo'; available: sqlite, mongodb, kafka, relay, http",
    );
    noStackTrace(backend.stderr);
  });

  it('says which command starts MongoDB or Kafka when the service is not reachable, before running any row', async () => {
    const mongo = await bench(['--backend', 'sqlite,mongodb', '--scale', '0.001'], {
      MONGODB_URL: 'mongodb://127.0.0.1:1',
    });
    expect(mongo.code).toBe(1);
    expect(mongo.stderr).toContain(
      'MongoDB is not reachable at mongodb://127.0.0.1:1 (MONGODB_URL)',
    );
    expect(mongo.stderr).toContain('npm run services:up');
    expect(mongo.stderr).toContain('bash scripts/services.sh up');
    expect(mongo.stderr).not.toContain('sqlite append-single');
    noStackTrace(mongo.stderr);

    const kafka = await bench(['--backend', 'kafka'], { KAFKA_BROKERS: '127.0.0.1:1' });
    expect(kafka.code).toBe(1);
    expect(kafka.stderr).toMatch(
      /Kafka is not reachable at 127\.0\.0\.1:1 \(KAFKA_BROKERS\): .*ECONNREFUSED.*npm run services:up/,
    );
    noStackTrace(kafka.stderr);
  });
});
