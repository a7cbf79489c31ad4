import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface EventloomOptions {
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** The data folder (kept after `stop`); default: a new temporary one, removed by `stop`. */
  dataDir?: string;
  /** Default 0: any free port. */
  port?: number;
}

export interface EventloomProcess {
  /** e.g. `http://127.0.0.1:41234` */
  url: string;
  port: number;
  dataDir: string;
  /** What the server printed so far (to explain a failure). */
  output(): string;
  /** Sends `signal` (e.g. SIGKILL: no shutdown at all) and resolves once the process is gone; keeps the data folder. */
  kill(signal: NodeJS.Signals): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Runs `eventloom start` as a user would (the built package: `npm run build` first) on a
 * fresh embedded store in a temporary folder and a free port, until `stop()`.
 */
export async function startEventloom(options: EventloomOptions = {}): Promise<EventloomProcess> {
  for (const built of ['dist/cli/main.js', 'dist/web/index.html']) {
    if (!existsSync(join(ROOT, built))) {
      throw new Error(`${built} is missing: run \`npm run build\` before the e2e tests`);
    }
  }
  const ownsData = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'eventloom-e2e-')));
  let output = '';
  const child: ChildProcess = spawn(process.execPath, ['bin/eventloom.js', 'start'], {
    cwd: ROOT,
    env: {
      ...process.env,
      EVENTLOOM_DATA: dataDir,
      EVENTLOOM_STORE: '',
      READ_MODELS: '',
      KAFKA_BROKERS: '',
      WEB_ROOT: join(ROOT, 'dist', 'web'),
      HOST: '127.0.0.1',
      PORT: String(options.port ?? 0),
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`eventloom did not start within 30 s:\n${output}`)),
      30_000,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Eventloom is running at (http:\/\/\S+)/.exec(output);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`eventloom exited (${code}) before it started:\n${output}`));
    });
  });

  return {
    url,
    port: Number(new URL(url).port),
    dataDir,
    output: () => output,
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(force);
      }
      if (ownsData) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface WorkerProcess {
  output(): string;
  kill(signal: NodeJS.Signals): Promise<void>;
}

/** `eventloom worker <name>` from the built package, on its own data folder. */
export async function startWorker(
  name: string,
  env: Record<string, string>,
): Promise<WorkerProcess> {
  let output = '';
  const child: ChildProcess = spawn(process.execPath, ['bin/eventloom.js', 'worker', name], {
    cwd: ROOT,
    env: { ...process.env, EVENTLOOM_STORE: '', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(`Eventloom worker ${name} is running`)) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then(() => reject(new Error(`worker ${name} exited early:\n${output}`)));
  });
  return {
    output: () => output,
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
