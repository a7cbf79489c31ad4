// A random multi-process run against one shared store: writer processes append to
// overlapping streams with conflicts on purpose while subscriber processes follow the log
// and are killed with SIGKILL and restarted. Afterwards every subscriber must have received
// every committed event, in position order, without skipping one and without stalling.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, onTestFinished, vi } from 'vitest';
import type { EventStore } from '../../src/core/types.js';

const FIXTURE = join(import.meta.dirname, 'fixtures/storeProcess.ts');

export interface MultiProcessRunOptions {
  backend: 'sqlite' | 'mongodb';
  /** What the children open: the SQLite file, or `url|dbName`. */
  location: string;
  /** A folder for the subscribers' delivery logs. */
  dir: string;
  /** A handle on the same store, for the checks. */
  store: EventStore;
  writers: number;
  appendsPerWriter: number;
  streams: number;
  subscribers: number;
  /** SIGKILLs per subscriber while the writers run (fewer if the writers finish first). */
  kills: number;
}

interface Child {
  process: ChildProcess;
  exited: Promise<number | null>;
  stdout: () => string;
  stderr: () => string;
}

/** Every child still running; killed when the test ends, also when it failed or timed out. */
const running = new Set<ChildProcess>();

function start(args: string[]): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.on('exit', () => running.delete(child));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => resolve(code));
  });
  return { process: child, exited, stdout: () => stdout, stderr: () => stderr };
}

const deliveries = (file: string): string[] =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.length > 0)
    : [];

/** One subscriber process, restarted after each kill; `stop()` kills it for good. */
function supervise(o: MultiProcessRunOptions, name: string, writersDone: () => boolean) {
  const file = join(o.dir, `${name}.log`);
  const args = ['subscriber', o.backend, o.location, name, file];
  let current = start(args);
  let killed = 0;
  const killing = (async () => {
    while (killed < o.kills) {
      const before = deliveries(file).length;
      // Kill once this incarnation made progress, so each restart really resumes work. On a
      // slow machine the writers may finish first: then kill once anyway, since a restart
      // after the writers stopped must also continue where it stopped and skip nothing.
      await vi.waitFor(
        () => {
          if (!writersDone() && deliveries(file).length <= before + 3)
            throw new Error('no progress');
        },
        { timeout: 30_000, interval: 20 },
      );
      if (writersDone() && killed > 0) break;
      current.process.kill('SIGKILL');
      await current.exited;
      killed++;
      current = start(args);
    }
  })();
  return {
    file,
    killed: () => killed,
    async stop(): Promise<void> {
      // A failed kill loop is reported by the checks; the process must go either way.
      await killing.catch(() => undefined);
      current.process.kill('SIGKILL');
      await current.exited;
    },
    stderr: () => current.stderr(),
  };
}

export async function multiProcessRun(o: MultiProcessRunOptions): Promise<void> {
  onTestFinished(() => {
    for (const child of running) child.kill('SIGKILL');
  });
  let done = false;
  const writers = Array.from({ length: o.writers }, (_, w) =>
    start([
      'writer',
      o.backend,
      o.location,
      `w${w}`,
      String(o.appendsPerWriter),
      String(o.streams),
    ]),
  );
  const subscribers = Array.from({ length: o.subscribers }, (_, s) =>
    supervise(o, `sub${s}`, () => done),
  );
  const codes = await Promise.all(writers.map((w) => w.exited));
  done = true;
  writers.forEach((w, i) => expect(codes[i], `writer ${i}: ${w.stderr()}`).toBe(0));
  const summaries = writers.map(
    (w) => JSON.parse(w.stdout()) as { committed: number; conflicts: number },
  );

  const head = await o.store.headPosition();
  try {
    for (const s of subscribers) {
      // No stall: every subscriber reaches the head.
      await vi.waitFor(
        () => expect(deliveries(s.file).some((l) => l.startsWith(`${head} `))).toBe(true),
        { timeout: 30_000, interval: 50 },
      );
    }
  } finally {
    await Promise.all(subscribers.map((s) => s.stop()));
  }

  const log = await o.store.readAll();
  expect(log.length).toBe(summaries.reduce((n, s) => n + s.committed, 0));
  expect(summaries.reduce((n, s) => n + s.conflicts, 0)).toBeGreaterThan(0);
  expect(subscribers.reduce((n, s) => n + s.killed(), 0)).toBeGreaterThan(0);
  const index = new Map(log.map((e, i) => [`${e.position} ${e.id}`, i]));
  for (const s of subscribers) checkDeliveries(deliveries(s.file), index, log.length, s.file);
}

/**
 * Each run of a subscriber (from one `start` line to the next) delivers consecutive log
 * entries, and starts no later than right after what earlier runs delivered.
 */
function checkDeliveries(
  lines: string[],
  index: Map<string, number>,
  total: number,
  file: string,
): void {
  let reached = -1;
  let previous: number | undefined;
  for (const line of lines) {
    if (line.startsWith('start ')) {
      previous = undefined;
      continue;
    }
    const at = index.get(line);
    expect(at, `${file}: delivered an event that is not in the log: ${line}`).toBeDefined();
    const i = at as number;
    if (previous === undefined) {
      expect(i, `${file}: a restart skipped events (resumed at ${line})`).toBeLessThanOrEqual(
        reached + 1,
      );
    } else {
      expect(i, `${file}: out of order or skipped after entry ${previous}: ${line}`).toBe(
        previous + 1,
      );
    }
    previous = i;
    reached = Math.max(reached, i);
  }
  expect(reached, `${file}: did not deliver the whole log`).toBe(total - 1);
}
