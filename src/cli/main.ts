import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { isEventloomError } from '../core/errors.js';
import type { BenchCommandOptions } from './benchCommand.js';
import { cliLogger } from './cliLogger.js';
import { registerRelayCommand } from './relayCommand.js';
import { registerProjectionsCommand } from './projectionsCommand.js';
import { registerKafkaCommand } from './kafkaCommand.js';

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError(`'${value}' is not a positive number`);
  return n;
}

function wholeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new InvalidArgumentError(`'${value}' is not a whole number >= 0`);
  return n;
}

/** The embedded store's file inside the data folder (EVENTLOOM_DATA, default ./data). */
export function dataPath(dataDir: string | undefined): string {
  const dir = resolve(dataDir ?? process.env.EVENTLOOM_DATA ?? 'data');
  mkdirSync(dir, { recursive: true });
  return join(dir, 'eventloom.db');
}

/** The `eventloom` command with all its subcommands, built without parsing (the CLI reference is generated from it). */
export function buildProgram(): Command {
  const program = new Command('eventloom')
    .description('Event sourcing, CQRS and change-data-capture for MongoDB and embedded SQLite')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('start')
    .description(
      'run the reference app and its HTTP API (embedded SQLite in EVENTLOOM_DATA, default ./data; EVENTLOOM_STORE=mongodb://… for MongoDB, READ_MODELS=postgres for PostgreSQL read models)',
    )
    .option('--data <dir>', 'data folder for the embedded store')
    .option('--port <port>', 'port to listen on (PORT, default 3000)', wholeNumber)
    .option('--host <host>', 'address to listen on (HOST, default 127.0.0.1)')
    .action(async (opts: { data?: string; port?: number; host?: string }) => {
      const { startCommand } = await import('./startCommand.js');
      await startCommand(opts, cliLogger());
    });

  program
    .command('worker')
    .description(
      "run one of the shop's services (inventory, orders, shipping, notifications) as its own process over Kafka (needs KAFKA_BROKERS; own store in EVENTLOOM_DATA or EVENTLOOM_STORE)",
    )
    .argument('<name>', 'inventory, orders, shipping or notifications')
    .option('--data <dir>', "data folder of the worker's own embedded store")
    .option(
      '--metrics-port <port>',
      'serve /metrics (Prometheus) and /health on this port (0: any free one; env WORKER_METRICS_PORT)',
    )
    .action(async (name: string, opts: { data?: string; metricsPort?: string }) => {
      const { workerCommand } = await import('./workerCommand.js');
      await workerCommand(name, opts, cliLogger());
    });

  program
    .command('demo')
    .description('run the small account demo on the embedded SQLite store, then exit')
    .option('--data <dir>', 'data folder for the embedded store')
    .action(async (opts: { data?: string }) => {
      const { runDemo } = await import('./demo.js');
      await runDemo({ path: dataPath(opts.data), log: cliLogger() });
    });

  program
    .command('bench')
    .description('measure throughput against a raw-driver baseline in the same run')
    .option('--json', 'print one JSON document { rows: [...] } on stdout')
    .option('--scale <n>', 'multiply workload sizes (e.g. 0.1 for a quick run)', positiveNumber, 1)
    .option('--rounds <n>', 'rounds per workload; the median counts', wholeNumber, 3)
    .option(
      '--backend <names>',
      'comma-separated backends: sqlite, mongodb (MONGODB_URL), kafka (KAFKA_BROKERS), relay (both), http',
      'sqlite',
    )
    .option(
      '--workload <names>',
      'comma-separated workloads to run (default: all of the chosen backends), e.g. append-single,catch-up-1m',
    )
    .action(async (opts: BenchCommandOptions) => {
      const { benchCommand } = await import('./benchCommand.js');
      await benchCommand(opts, cliLogger());
    });

  program
    .command('events')
    .description('print events of the embedded store in global order, as JSON lines')
    .option('--data <dir>', 'data folder for the embedded store')
    .option('--from <position>', 'first global position (inclusive)', wholeNumber, 0)
    .option('--limit <n>', 'at most this many events', wholeNumber, 100)
    .action(async (opts: { data?: string; from: number; limit: number }) => {
      const { createSqliteEventStore } = await import('../sqlite/sqliteEventStore.js');
      const store = createSqliteEventStore({ path: dataPath(opts.data) });
      for (const e of await store.readAll({ from: opts.from, maxCount: opts.limit })) {
        process.stdout.write(JSON.stringify(e) + '\n');
      }
      await store.close();
    });

  program
    .command('stream <streamId>')
    .description("print one stream's events as JSON lines")
    .option('--data <dir>', 'data folder for the embedded store')
    .action(async (streamId: string, opts: { data?: string }) => {
      const { createSqliteEventStore } = await import('../sqlite/sqliteEventStore.js');
      const store = createSqliteEventStore({ path: dataPath(opts.data) });
      const info = await store.streamInfo(streamId);
      process.stderr.write(
        `${streamId}: version ${info.version}${info.deleted ? ' (deleted)' : ''}\n`,
      );
      for (const e of await store.readStream(streamId))
        process.stdout.write(JSON.stringify(e) + '\n');
      await store.close();
    });

  registerRelayCommand(program, cliLogger);
  registerProjectionsCommand(program, cliLogger);
  registerKafkaCommand(program, cliLogger);
  return program;
}

/** Runs the command line; returns the process exit code. */
export async function run(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    const message = error instanceof Error ? error.message : String(error);
    const code = isEventloomError(error) ? ` [${error.code}]` : '';
    process.stderr.write(`eventloom: ${message}${code}\n`);
    if (process.env.DEBUG) process.stderr.write(`${(error as Error).stack ?? ''}\n`);
    return 1;
  }
}
