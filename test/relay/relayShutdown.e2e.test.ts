/**
 * How the real `eventloom relay` command (built package) stops on SIGTERM: an idle relay
 * (a change stream waiting in a getMore) stops cleanly and says how long stopping took; a
 * relay whose webhook never answers waits out `delivery.shutdownTimeoutMs`, warns, and
 * still exits cleanly.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MONGODB_URL, serviceAvailable, uniqueName } from '../support/services.js';
import { spawnRelay, writeConfig, type RelayProcess } from './relayProcesses.js';

const available = await serviceAvailable('mongodb');
const EXAMPLE = fileURLToPath(new URL('../../examples/relay-webhook/relay.yaml', import.meta.url));

/** The relay's structured log lines. */
function logLines(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function line(relay: RelayProcess, msg: string): Record<string, unknown> | undefined {
  return logLines(relay.output()).find((l) => l.msg === msg);
}

/** The final structured line: which relay, and how long stopping took. */
function expectStoppedLine(relay: RelayProcess, name: string): void {
  const stopped = line(relay, 'relay stopped');
  expect(stopped?.relay, relay.output()).toBe(name);
  expect(typeof stopped?.stoppingMs, relay.output()).toBe('number');
}

describe.skipIf(!available)('relay shutdown on SIGTERM (real CLI)', () => {
  let client: MongoClient;
  const databases: string[] = [];
  const children: RelayProcess[] = [];
  const servers: Server[] = [];

  beforeAll(async () => {
    client = new MongoClient(MONGODB_URL, { serverSelectionTimeoutMS: 5000 });
    await client.connect();
  });
  afterAll(async () => {
    for (const c of children) if (c.child.exitCode === null) await c.kill9();
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise((resolve) => s.close(resolve));
    }
    for (const name of databases) await client.db(name).dropDatabase();
    await client?.close();
  });

  const start = (args: string[], env: Record<string, string>): RelayProcess => {
    const relay = spawnRelay(args, { LOG_LEVEL: 'info', ...env }, { built: true });
    children.push(relay);
    return relay;
  };

  it('an idle relay stops on SIGTERM with exit code 0 and logs how long stopping took', async () => {
    const name = uniqueName('relay_shutdown');
    databases.push(name);
    const state = mkdtempSync(join(tmpdir(), 'eventloom-relay-shutdown-'));
    // The example as shipped: its change stream waits up to a second in each getMore.
    const relay = start(['--config', EXAMPLE, '--port', '0'], {
      MONGODB_URL,
      RELAY_NAME: name,
      RELAY_DB: name,
      RELAY_STATE: join(state, 'relay-state.db'),
      WEBHOOK_URL: 'http://127.0.0.1:9/never-called',
    });
    await expect
      .poll(() => relay.output(), { timeout: 30_000 })
      .toContain('snapshot copied; streaming');

    expect(await relay.terminate(), relay.output()).toBe(0);
    expectStoppedLine(relay, name);
    expect(line(relay, 'relay failed'), relay.output()).toBeUndefined();
  }, 90_000);

  it('a relay whose webhook never answers waits out shutdownTimeoutMs, warns, and exits with code 0', async () => {
    const name = uniqueName('relay_shutdown_inflight');
    databases.push(name);
    let requests = 0;
    // Takes the request and never answers.
    const silent = createServer(() => void requests++);
    servers.push(silent);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    const file = writeConfig({
      name,
      source: {
        mongodb: {
          url: MONGODB_URL,
          databases: { [name]: { collections: ['orders'] } },
          discoveryIntervalMs: 500,
        },
      },
      pipeline: [
        {
          http: {
            url: `http://127.0.0.1:${port}/hooks`,
            timeoutMs: 600_000,
            retry: { maxAttempts: 1 },
          },
        },
      ],
      delivery: { shutdownTimeoutMs: 1000 },
      state: { sqlite: { path: 'relay-state.db' } },
      server: false,
    });
    const relay = start(['--config', file], {});
    await expect.poll(() => relay.output(), { timeout: 30_000 }).toContain('relay active');
    await expect
      .poll(
        async () => {
          await client.db(name).collection('orders').insertOne({ total: 1 });
          return requests;
        },
        { timeout: 30_000, interval: 1000 },
      )
      .toBeGreaterThan(0);

    expect(await relay.terminate(), relay.output()).toBe(0);
    const warning = line(
      relay,
      'shutdown timeout: unfinished deliveries will be redelivered after restart',
    );
    expect(warning?.inFlight, relay.output()).toBeGreaterThan(0);
    expectStoppedLine(relay, name);
  }, 90_000);
});
