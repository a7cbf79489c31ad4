import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import type { BenchOptions, BenchRow } from './benchHarness.js';
import { sleep } from '../core/async.js';

/**
 * The baseline for `http-command`: a bare node:http server that does what the command
 * endpoint must do at minimum — check Basic credentials against a cached value, parse and
 * check the JSON body, insert one row in SQLite (WAL, same pragmas) in a transaction that
 * reads the stream version first, answer 201 with JSON. No framework, no events, no
 * projections.
 */
const BASELINE_SERVER = `
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
const BetterSqlite3 = createRequire(process.argv[3])('better-sqlite3');
const db = new BetterSqlite3(process.argv[2]);
db.pragma('journal_mode = WAL'); db.pragma('synchronous = NORMAL');
db.exec('CREATE TABLE IF NOT EXISTS tweets (position INTEGER PRIMARY KEY AUTOINCREMENT, stream_id TEXT NOT NULL, version INTEGER NOT NULL, body TEXT NOT NULL, author TEXT NOT NULL, at INTEGER NOT NULL, UNIQUE (stream_id, version))');
const current = db.prepare('SELECT MAX(version) FROM tweets WHERE stream_id = ?').pluck();
const insert = db.prepare('INSERT INTO tweets (stream_id, version, body, author, at) VALUES (?, ?, ?, ?, ?)');
const append = db.transaction((id, body, author) => {
  const v = (current.get(id) ?? 0) + 1;
  return insert.run(id, v, body, author, Date.now()).lastInsertRowid;
});
const expected = 'Basic ' + Buffer.from('bench:correct horse battery staple').toString('base64');
let n = 0;
const server = createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/api/v2/tweets') { res.writeHead(404).end(); return; }
  if (req.headers.authorization !== expected) { res.writeHead(401).end(); return; }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let body;
    try { body = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch { res.writeHead(400).end(); return; }
    if (typeof body?.body !== 'string' || body.body.length === 0 || body.body.length > 280) { res.writeHead(400).end(); return; }
    const id = 'tweet-' + (++n);
    const position = append(id, body.body, 'bench');
    res.writeHead(201, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id, body: body.body, tweetedby: 'bench', position: Number(position) }));
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write('Eventloom is running at http://127.0.0.1:' + server.address().port + '\\n'));
`;

function startProcess(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(
      () => reject(new Error(`server did not start in 30 s: ${err.slice(-2000)}`)),
      30_000,
    );
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /running at (http:\/\/[^\s]+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve({ child, url: m[1] });
      }
    });
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) =>
      reject(new Error(`server exited with ${code}: ${err.slice(-2000)}`)),
    );
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(10_000)]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

async function load(url: string, seconds: number, connections: number): Promise<autocannon.Result> {
  const auth = 'Basic ' + Buffer.from('bench:correct horse battery staple').toString('base64');
  return autocannon({
    url: `${url}/api/v2/tweets`,
    method: 'POST',
    connections,
    duration: seconds,
    headers: { 'content-type': 'application/json', authorization: auth },
    body: JSON.stringify({ body: 'load test tweet: hello from autocannon' }),
  });
}

/** Requests that got no 2xx answer: error responses, socket errors and timeouts. */
const failures = (result: autocannon.Result): number =>
  result.non2xx + result.errors + result.timeouts;

function check(result: autocannon.Result, what: string): void {
  if (failures(result) > 0) {
    throw new Error(
      `${what}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`,
    );
  }
}

/** The second measurement of `http-command`: many clients at once, reported in `notes`. */
const MANY_CONNECTIONS = 100;

/**
 * `http-command`: POST /api/v2/tweets (authenticated with HTTP Basic) against the reference
 * app on SQLite, in a separate process, loaded by autocannon from this one; beside the bare
 * node:http + SQLite baseline. Reports requests/s as "events/s" (one event per request) and
 * latency percentiles in `notes`; the `many…` notes are a run at 100 connections (30 s at
 * scale 1), its failed requests counted. Both servers run in child processes,
 * loaded in turn by autocannon from this one, so each gets the same treatment.
 */
export async function runHttpBench(options: BenchOptions): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'eventloom-http-bench-'));
  const seconds = Math.max(2, Math.round(10 * options.scale));
  const connections = 10;
  const manySeconds = Math.max(3, Math.round(30 * options.scale));
  const bin = fileURLToPath(new URL('../../bin/eventloom.js', import.meta.url));
  const baselineFile = join(dir, 'baseline.mjs');
  writeFileSync(baselineFile, BASELINE_SERVER);
  const env = {
    ...process.env,
    EVENTLOOM_DATA: join(dir, 'app'),
    PORT: '0',
    SEED_SAMPLE_DATA: 'false',
    LOG_LEVEL: 'warn',
  };
  try {
    const app = await startProcess([bin, 'start', '--port', '0'], env);
    const packageJson = fileURLToPath(new URL('../../package.json', import.meta.url));
    const baseline = await startProcess(
      [baselineFile, join(dir, 'baseline.db'), packageJson],
      process.env,
    ).catch(async (e: unknown) => {
      await stop(app.child);
      throw e;
    });
    try {
      const register = await fetch(`${app.url}/api/v1/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: app.url },
        body: JSON.stringify({
          username: 'bench',
          email: 'bench@example.com',
          name: 'Bench',
          password: 'correct horse battery staple',
        }),
      });
      if (register.status !== 201)
        throw new Error(
          `registering the bench user failed: ${register.status} ${await register.text()}`,
        );
      options.progress(`http: warming up for 2 s`);
      check(await load(app.url, 2, connections), 'warm-up');
      check(await load(baseline.url, 2, connections), 'baseline warm-up');
      const ours: autocannon.Result[] = [];
      const base: autocannon.Result[] = [];
      for (let round = 0; round < options.rounds; round++) {
        base.push(await load(baseline.url, seconds, connections));
        ours.push(await load(app.url, seconds, connections));
        check(ours.at(-1) as autocannon.Result, 'eventloom');
        check(base.at(-1) as autocannon.Result, 'baseline');
        options.progress(
          `http-command round ${round + 1}/${options.rounds}: eventloom ${Math.round(ours.at(-1)!.requests.average)}/s p99 ${ours.at(-1)!.latency.p99} ms, baseline ${Math.round(base.at(-1)!.requests.average)}/s`,
        );
      }
      const median = (rs: autocannon.Result[], f: (r: autocannon.Result) => number): number =>
        rs.map(f).sort((a, b) => a - b)[Math.floor(rs.length / 2)] as number;
      // The many-clients target: errors are counted and reported here, not thrown.
      options.progress(`http-command: ${MANY_CONNECTIONS} connections for ${manySeconds} s`);
      const many = await load(app.url, manySeconds, MANY_CONNECTIONS);
      const manyBase = await load(baseline.url, manySeconds, MANY_CONNECTIONS);
      options.progress(
        `http-command at ${MANY_CONNECTIONS} connections: eventloom ${Math.round(many.requests.average)}/s p99 ${many.latency.p99} ms, ${failures(many)} failed; baseline ${Math.round(manyBase.requests.average)}/s`,
      );
      const rps = median(ours, (r) => r.requests.average);
      const baseRps = median(base, (r) => r.requests.average);
      return [
        {
          backend: 'sqlite',
          workload: 'http-command',
          eventsPerSec: Math.round(rps),
          baselinePerSec: Math.round(baseRps),
          ratio: Math.round((rps / baseRps) * 100) / 100,
          notes: {
            endpoint: 'POST /api/v2/tweets',
            connections,
            seconds,
            p50Ms: median(ours, (r) => r.latency.p50),
            p99Ms: median(ours, (r) => r.latency.p99),
            baselineP99Ms: median(base, (r) => r.latency.p99),
            baselineP50Ms: median(base, (r) => r.latency.p50),
            manyConnections: MANY_CONNECTIONS,
            manySeconds,
            manyRequestsPerSec: Math.round(many.requests.average),
            manyFailed: failures(many),
            manyP50Ms: many.latency.p50,
            manyP99Ms: many.latency.p99,
            manyBaselinePerSec: Math.round(manyBase.requests.average),
            manyBaselineP99Ms: manyBase.latency.p99,
          },
        },
      ];
    } finally {
      await Promise.all([stop(app.child), stop(baseline.child)]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
