import { connect } from 'node:net';
import { MongoClient } from 'mongodb';
import { ConfigurationError, ValidationError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import {
  BENCH_WORKLOADS,
  type BenchOptions,
  type BenchRow,
  formatTable,
} from '../bench/benchHarness.js';

export interface BenchCommandOptions {
  json?: boolean;
  scale: number;
  rounds: number;
  backend: string;
  workload?: string;
}

const START_SERVICES = 'start them with `npm run services:up` (or `bash scripts/services.sh up`)';
const list = (value: string): string[] =>
  value
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v.length > 0);

/** The backends and workloads asked for, refused with the valid names when one is unknown. */
export function selectWorkloads(
  backendArg: string,
  workloadArg: string | undefined,
): { backends: string[]; workloads: string[] | undefined } {
  const backends = list(backendArg);
  const known = Object.keys(BENCH_WORKLOADS);
  for (const backend of backends) {
    if (!known.includes(backend))
      throw new ValidationError(
        '--backend',
        `unknown backend '${backend}'; available: ${known.join(', ')}`,
      );
  }
  if (workloadArg === undefined) return { backends, workloads: undefined };
  const workloads = list(workloadArg);
  const offered = new Set(backends.flatMap((b) => BENCH_WORKLOADS[b] ?? []));
  for (const workload of workloads) {
    if (offered.has(workload)) continue;
    const elsewhere = known.filter((b) => BENCH_WORKLOADS[b]?.includes(workload));
    throw new ValidationError(
      '--workload',
      elsewhere.length > 0
        ? `workload '${workload}' belongs to backend ${elsewhere.join(', ')}; add it to --backend (now ${backends.join(',')})`
        : `unknown workload '${workload}'; available for --backend ${backends.join(',')}: ${[...offered].join(', ')}`,
    );
  }
  return { backends, workloads };
}

async function probeMongo(url: string): Promise<void> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 3000, connectTimeoutMS: 3000 });
  try {
    await client.connect();
    await client.db('admin').command({ ping: 1 });
  } catch (error) {
    throw new ConfigurationError(
      `MongoDB is not reachable at ${url} (MONGODB_URL): ${(error as Error).message}; ${START_SERVICES}, or point MONGODB_URL at a running server`,
      { cause: error },
    );
  } finally {
    await client.close().catch(() => undefined);
  }
}

const reachable = (hostPort: string): Promise<string | undefined> =>
  new Promise((resolve) => {
    const at = hostPort.lastIndexOf(':');
    const socket = connect({
      host: at > 0 ? hostPort.slice(0, at) : hostPort,
      port: at > 0 ? Number(hostPort.slice(at + 1)) : 9092,
      timeout: 3000,
    });
    const done = (problem: string | undefined): void => {
      socket.destroy();
      resolve(problem);
    };
    socket.once('connect', () => done(undefined));
    socket.once('timeout', () => done('timed out after 3 s'));
    socket.once('error', (error) => done(error.message));
  });

async function probeKafka(brokers: string): Promise<void> {
  const problems = await Promise.all(list(brokers).map(reachable));
  if (problems.some((p) => p === undefined)) return;
  throw new ConfigurationError(
    `Kafka is not reachable at ${brokers} (KAFKA_BROKERS): ${problems.join('; ')}; ${START_SERVICES}, or point KAFKA_BROKERS at a running broker`,
  );
}

/** `eventloom bench`: the rows asked for, a progress line per row, a table at the end. */
export async function benchCommand(opts: BenchCommandOptions, log: Logger): Promise<void> {
  const { backends, workloads } = selectWorkloads(opts.backend, opts.workload);
  const mongoUrl = process.env.MONGODB_URL ?? 'mongodb://127.0.0.1:27017';
  const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
  const runs = backends.filter((b) =>
    (BENCH_WORKLOADS[b] ?? []).some((w) => !workloads || workloads.includes(w)),
  );
  // Before any row runs: a missing service should not cost the minutes the rows before it take.
  if (runs.includes('mongodb') || runs.includes('relay')) await probeMongo(mongoUrl);
  if (runs.includes('kafka') || runs.includes('relay')) await probeKafka(brokers);

  const options: BenchOptions = {
    scale: opts.scale,
    rounds: Math.max(1, opts.rounds),
    progress: (message) => log.info({ component: 'bench' }, message),
    workloads,
  };
  const rows: BenchRow[] = [];
  for (const backend of runs) {
    log.info({ component: 'bench', backend }, `bench ${backend}: started`);
    const got = await runBackend(backend, options, mongoUrl, brokers);
    const kept = got.filter((r) => !workloads || workloads.includes(r.workload));
    for (const row of kept)
      log.info(
        { component: 'bench', ...row },
        `bench row ${row.backend} ${row.workload}: ratio ${row.ratio.toFixed(2)}`,
      );
    rows.push(...kept);
  }
  if (opts.json) {
    process.stdout.write(JSON.stringify({ rows }, null, 2) + '\n');
    process.stderr.write(formatTable(rows) + '\n');
  } else {
    process.stdout.write(formatTable(rows) + '\n');
  }
}

async function runBackend(
  backend: string,
  options: BenchOptions,
  mongoUrl: string,
  brokers: string,
): Promise<BenchRow[]> {
  switch (backend) {
    case 'sqlite': {
      const { runSqliteBench } = await import('../bench/sqliteBench.js');
      return runSqliteBench(options);
    }
    case 'mongodb': {
      const { runMongoBench } = await import('../bench/mongoBench.js');
      return runMongoBench({ ...options, url: mongoUrl });
    }
    case 'relay': {
      const { runRelayBench } = await import('../bench/relayBench.js');
      return runRelayBench({ ...options, mongoUrl, brokers });
    }
    case 'kafka': {
      const { runKafkaBench } = await import('../bench/kafkaBench.js');
      type KafkaOptions = Parameters<typeof runKafkaBench>[0];
      return runKafkaBench({
        ...options,
        brokers,
        workloads: options.workloads as KafkaOptions['workloads'],
      });
    }
    default: {
      const { runHttpBench } = await import('../bench/httpBench.js');
      return runHttpBench(options);
    }
  }
}
