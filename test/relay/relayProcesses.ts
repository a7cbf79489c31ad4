import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'relayProcess.ts');
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export function writeConfig(config: unknown, name = 'relay.json'): string {
  const dir = mkdtempSync(join(tmpdir(), 'eventloom-relay-'));
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

export interface RelayProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  kill9(): Promise<void>;
  terminate(): Promise<number | null>;
}

export interface RelayCliOptions {
  /**
   * Run the installed command (`node bin/eventloom.js relay …`, needs `npm run build`)
   * instead of the sources through tsx.
   */
  built?: boolean;
}

function relayArgv(args: string[], options: RelayCliOptions): string[] {
  if (!options.built) return ['--import', 'tsx', FIXTURE, 'relay', ...args];
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js')))
    throw new Error('dist/cli/main.js is missing: run `npm run build` before the relay e2e tests');
  return [join(ROOT, 'bin', 'eventloom.js'), 'relay', ...args];
}

/** Starts `eventloom relay …` as a real child process (tsx unless `built`). */
export function spawnRelay(
  args: string[],
  env: Record<string, string> = {},
  options: RelayCliOptions = {},
): RelayProcess {
  const child = spawn(process.execPath, relayArgv(args, options), {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return {
    child,
    output: () => out,
    exited,
    async kill9() {
      child.kill('SIGKILL');
      await exited;
    },
    async terminate() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Runs a relay CLI command to completion. */
export async function runRelayCli(
  args: string[],
  env: Record<string, string> = {},
  options: RelayCliOptions = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, relayArgv(args, options), {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stdout, stderr };
}
