/**
 * Runs every project in examples/ against the built package, as a user who ran `npm install`
 * in it would: the example is copied to a temp dir whose node_modules/eventloom links to the
 * repository root (whose `exports` point at dist/), its other dependencies link to the
 * repository's copies, then its typecheck, its main script and its tests run.
 */
import { execFile } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { KAFKA_BROKERS, MONGODB_URL, serviceAvailable, uniqueName } from '../support/services.js';

const mongoUp = await serviceAvailable('mongodb');
const kafkaUp = await serviceAvailable('kafka');
const run = promisify(execFile);
const root = join(import.meta.dirname, '../..');
const bin = (name: string): string => join(root, 'node_modules/.bin', name);
const dirs: string[] = [];

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** The example in a fresh directory, with its dependencies linked as `npm install` would place them. */
function install(example: string): string {
  const dir = mkdtempSync(join(tmpdir(), `eventloom-${example}-`));
  dirs.push(dir);
  cpSync(join(root, 'examples', example), dir, { recursive: true });
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
  for (const name of Object.keys({ ...pkg.dependencies, ...pkg.devDependencies })) {
    const link = join(dir, 'node_modules', name);
    mkdirSync(dirname(link), { recursive: true });
    const source = name === 'eventloom' ? root : join(root, 'node_modules', name);
    if (!existsSync(source))
      throw new Error(`${example} needs ${name}, which the repository lacks`);
    symlinkSync(source, link, 'dir');
  }
  return dir;
}

async function runIn(
  dir: string,
  command: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<string> {
  try {
    const { stdout } = await run(command, args, {
      cwd: dir,
      env: { ...process.env, ...env },
      timeout: 120_000,
    });
    return stdout;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; code?: number };
    throw new Error(
      `${command} ${args.join(' ')} in ${dir} failed (exit ${e.code}):\n${e.stdout}\n${e.stderr}`,
    );
  }
}

async function typecheckAndStart(
  example: string,
  env: Record<string, string> = {},
): Promise<{ dir: string; out: string }> {
  const dir = install(example);
  await runIn(dir, bin('tsc'), ['--noEmit', '-p', 'tsconfig.json']);
  const out = await runIn(dir, bin('tsx'), ['src/main.ts'], env);
  return { dir, out };
}

describe('examples run against the built package', () => {
  it('bank-account: commands, a refused stale write, an idempotent retry and a projection on SQLite', async () => {
    const { dir, out } = await typecheckAndStart('bank-account');
    expect(out).toContain('stale write refused: expected version 2, actual 3');
    expect(out).toContain('nothing appended (balance 70)');
    expect(out).toContain('read model: ada has 82');
    expect(out).toContain('bank-account example: ok');
    const tests = await runIn(dir, bin('tsx'), ['--test', 'src/bankAccount.test.ts']);
    expect(tests).toMatch(/# pass 5\n# fail 0/);
  });

  it('order-workflow: a durable payment timer cancels the unpaid order after a restart', async () => {
    const { dir, out } = await typecheckAndStart('order-workflow');
    expect(out).toContain('15 minutes later: 1 timer fired');
    expect(out).toContain('o-1 ends with OrderPaid, o-2 with OrderCancelled');
    expect(out).toContain('order-workflow example: ok');
    const tests = await runIn(dir, bin('tsx'), ['--test', 'src/payment.test.ts']);
    expect(tests).toMatch(/# pass 4\n# fail 0/);
  });

  it.skipIf(!mongoUp)(
    'relay-webhook: the relay delivers MongoDB changes to a signed webhook',
    async () => {
      const { out } = await typecheckAndStart('relay-webhook', {
        MONGODB_URL,
        RELAY_DB: uniqueName('relay_example'),
      });
      expect(out).toMatch(/webhook: snapshot \S+\.orders .*"number":3/);
      expect(out).toMatch(/webhook: update \S+\.orders .*"status":"paid"/);
      expect(out).not.toContain('internalNote');
      expect(out).toContain('relay-webhook example: ok');
    },
  );

  it.skipIf(!kafkaUp)(
    'kafka-consumer: a consumer group applies each published event once and dead-letters the poison one',
    async () => {
      const { out } = await typecheckAndStart('kafka-consumer', {
        KAFKA_BROKERS,
        KAFKA_TOPIC_PREFIX: uniqueName('example').replaceAll('_', '-'),
      });
      expect(out).toContain('balances: ada 71, bob 7');
      expect(out).toMatch(/1 poison event went to \S+\.account\.dlq/);
      expect(out).toContain('balances unchanged, each event applied once');
      expect(out).toContain('kafka-consumer example: ok');
    },
  );
});
