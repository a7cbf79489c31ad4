/**
 * Schemathesis, a third-party API fuzzer, against a real `eventloom start`: it reads
 * /api/openapi.json, generates valid and invalid requests for every operation and checks
 * each answer against the document (status codes, content types, response schemas and
 * headers) and that no request is a 5xx. Once anonymous, once signed in as an admin.
 *
 * `npm test` installs Schemathesis first (scripts/install-schemathesis.sh, into
 * .services/venv-schemathesis). Without Python the suite skips locally, saying so; under
 * CI=true that is a failure.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EventloomProcess, startEventloom } from '../e2e/eventloomProcess.js';
import { skipOrFail } from '../support/skipPolicy.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCHEMATHESIS = join(ROOT, '.services', 'venv-schemathesis', 'bin', 'schemathesis');
const USER = 'fuzzer';
const PASSWORD = 'correct horse battery staple';

// What each answer must satisfy. Left out, on purpose:
// - positive_data_acceptance: it wants a 2xx for every schema-valid body, but business rules
//   no JSON Schema can state answer 409/422 to some (a taken username, a product listed twice
//   in one order, a payment that is not the order's total, an already paid order).
// - ignored_auth: after a few wrong passwords from one address the server answers 429 (the
//   login throttling, test/server/loginThrottling.int.test.ts) where the check wants 401.
const CHECKS = [
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_schema_conformance',
  'response_headers_conformance',
  'negative_data_rejection',
  'missing_required_header',
  'unsupported_method',
  'use_after_free',
  'ensure_resource_availability',
].join(',');

/** Installs the fuzzer when Python is there; says why not otherwise. */
function ensureSchemathesis(): string | undefined {
  if (existsSync(SCHEMATHESIS)) return undefined;
  if (spawnSync('python3', ['-c', 'import venv, ensurepip']).status !== 0) {
    return 'python3 with the venv module is missing, so Schemathesis cannot be installed';
  }
  const install = spawnSync('bash', [join(ROOT, 'scripts', 'install-schemathesis.sh')], {
    encoding: 'utf8',
  });
  if (install.status !== 0 || !existsSync(SCHEMATHESIS)) {
    throw new Error(`scripts/install-schemathesis.sh failed:\n${install.stdout}${install.stderr}`);
  }
  return undefined;
}

const missing = ensureSchemathesis();
if (missing !== undefined) {
  // Python is a prerequisite of the machine, not a service `npm test` starts: locally the
  // suite skips and says why; under CI=true skipOrFail makes it a failure.
  if (process.env.CI === 'true') skipOrFail('the API fuzzer', missing);
  process.stderr.write(`skipping the API fuzzer (test/server/apiFuzz.e2e.test.ts): ${missing}\n`);
}

function schemathesis(
  args: readonly string[],
  cwd: string,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(SCHEMATHESIS, args, {
      cwd,
      env: { ...process.env, NO_COLOR: '1', SCHEMATHESIS_TELEMETRY: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

describe.skipIf(missing !== undefined)('the API under Schemathesis', () => {
  let server: EventloomProcess;
  let workDir: string;

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'eventloom-fuzz-'));
    server = await startEventloom({
      env: { ADMIN_USERNAMES: USER, SEED_SAMPLE_DATA: 'true', READ_YOUR_WRITES_MS: '0' },
    });
    const res = await fetch(`${server.url}/api/v1/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        username: USER,
        email: 'fuzzer@example.com',
        name: 'Fuzzer',
        password: PASSWORD,
      }),
    });
    expect(res.status, await res.text()).toBe(201);
  });

  afterAll(async () => {
    await server?.stop();
    if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
  });

  const run = async (extra: readonly string[]) => {
    const { code, output } = await schemathesis(
      [
        'run',
        `${server.url}/api/openapi.json`,
        '--url',
        server.url,
        // A live event stream never ends: they are tested in storeApi, shopLive and the
        // browser suite.
        '--exclude-path',
        '/api/events/live',
        '--exclude-path',
        '/api/shop/live',
        '--checks',
        CHECKS,
        '--max-examples',
        '5',
        // One worker: Schemathesis runs workers as threads, and CPython 3.11 builds ASTs in
        // threads unsafely ("AST constructor recursion depth mismatch", python/cpython#106905),
        // which failed runs at random with an internal error that says nothing about the API.
        '--workers',
        '1',
        '--seed',
        process.env.EVENTLOOM_FUZZ_SEED ?? '1',
        '--generation-database',
        'none',
        '--request-timeout',
        '20',
        '--no-color',
        ...extra,
      ],
      workDir,
    );
    if (code !== 0) {
      throw new Error(
        `Schemathesis found failures (exit ${code}):\n${output}\n--- server output ---\n${server.output().slice(-5000)}`,
      );
    }
    expect(output).toMatch(/\d+ generated, \d+ passed/);
    return output;
  };

  // Signed in first: the anonymous run sends wrong credentials, and the login throttling
  // then slows down every login from this address.
  it('finds no failure with HTTP Basic credentials of an admin, stateful sequences included', async () => {
    const output = await run([
      '--auth',
      `${USER}:${PASSWORD}`,
      // Ids accept usernames, so this would delete the fuzzer's own account and leave the
      // rest of the run answering 401/429; the anonymous run covers it.
      '--exclude-operation-id',
      'deleteUser',
    ]);
    // The credentials must keep working, or the run tested nothing behind them.
    expect(output).not.toMatch(/Rate limited:|Authentication failed:/);
  }, 240_000);

  it('finds no failure anonymously', async () => {
    await run(['--phases', 'coverage,fuzzing']);
  }, 180_000);
});
