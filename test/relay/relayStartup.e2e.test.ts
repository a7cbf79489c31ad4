/**
 * How the real `eventloom relay` command (built package) starts and stops: clear, prompt
 * failures for a busy ops port or a bad config, a restarted relay that takes its own lease
 * back at once, and a prompt SIGTERM.
 */
import { createServer } from 'node:net';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MONGODB_URL, serviceAvailable, uniqueName } from '../support/services.js';
import { runRelayCli, spawnRelay, writeConfig, type RelayProcess } from './relayProcesses.js';
import { itemsSource, removeRelayState } from './relayTestKit.js';

const available = await serviceAvailable('mongodb');

/** A port nothing listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe.skipIf(!available)('relay start-up and shutdown (real CLI)', () => {
  let client: MongoClient;
  const relays: string[] = [];
  const children: RelayProcess[] = [];

  beforeAll(async () => {
    client = new MongoClient(MONGODB_URL, { serverSelectionTimeoutMS: 5000 });
    await client.connect();
  });
  afterAll(async () => {
    for (const c of children) if (c.child.exitCode === null) await c.kill9();
    for (const name of relays) await client.db(name).dropDatabase();
    await removeRelayState(client, relays);
    await client?.close();
  });

  const config = (extra: Record<string, unknown> = {}): { name: string; file: string } => {
    const name = uniqueName('relay_startup');
    relays.push(name);
    const file = writeConfig({
      name,
      source: itemsSource(name),
      pipeline: [{ log: { level: 'debug' } }],
      ...extra,
    });
    return { name, file };
  };

  const start = (file: string, env: Record<string, string> = {}): RelayProcess => {
    const p = spawnRelay(['--config', file], { LOG_LEVEL: 'info', ...env }, { built: true });
    children.push(p);
    return p;
  };

  it('a second relay whose ops port is taken exits non-zero at once, naming the port and the fix', async () => {
    const port = await freePort();
    const first = start(config({ server: { port } }).file);
    await expect
      .poll(
        async () => (await fetch(`http://127.0.0.1:${port}/health`).catch(() => null))?.status,
        {
          timeout: 20_000,
        },
      )
      .toBe(200);
    const second = start(config({ server: { port } }).file);
    // Without the fix the process stays up for minutes on its open MongoDB connections.
    expect(await second.exited, second.output()).toBe(1);
    expect(second.output()).toContain(`port ${port}`);
    expect(second.output()).toMatch(/server\.port/);
    expect(first.child.exitCode).toBeNull();
    expect(await first.terminate(), first.output()).toBe(0);
  }, 60_000);

  it('a SIGKILLed relay restarted takes its own lease back at once, while a second live relay still waits', async () => {
    // A ttl far longer than the test: only taking over early can pass.
    const { name, file } = config({ lease: { ttlMs: 120_000 }, server: false });
    const leases = client
      .db('eventloom_relay')
      .collection<{ _id: string; owner: string | null }>('leases');
    const ownerPid = async (): Promise<number | undefined> => {
      const owner = (await leases.findOne({ _id: name }))?.owner;
      return owner ? Number(owner.split(':').at(-2)) : undefined;
    };
    const first = start(file);
    await expect.poll(ownerPid, { timeout: 20_000 }).toBe(first.child.pid);
    await first.kill9();

    const restarted = start(file);
    await expect.poll(ownerPid, { timeout: 20_000 }).toBe(restarted.child.pid);
    // The lease is swapped before the line is logged and piped to us: wait for the line.
    await expect
      .poll(() => restarted.output(), { timeout: 10_000 })
      .toContain("took over the lease from this relay's previous run");

    const other = start(file);
    await expect
      .poll(() => other.output(), { timeout: 20_000 })
      .toContain('standing by: another relay holds the lease');
    expect(await ownerPid()).toBe(restarted.child.pid);
    expect(await restarted.terminate(), restarted.output()).toBe(0);
    // Released on a clean stop: the waiting relay takes over without waiting out the ttl.
    await expect.poll(ownerPid, { timeout: 20_000 }).toBe(other.child.pid);
    expect(await other.terminate(), other.output()).toBe(0);
  }, 90_000);

  it('an unreachable MongoDB is reported with the URL, the config path and what to do', async () => {
    const file = writeConfig({
      name: uniqueName('relay_unreachable'),
      source: { mongodb: { url: 'mongodb://relay:s3cret@127.0.0.1:1' } },
      pipeline: [{ log: {} }],
    });
    const listed = await runRelayCli(['dlq', 'list', '--config', file], {}, { built: true });
    expect(listed.code).toBe(1);
    expect(listed.stderr).toContain(
      'cannot reach MongoDB at mongodb://relay:***@127.0.0.1:1 (relay config source.mongodb.url)',
    );
    expect(listed.stderr).toContain('ECONNREFUSED');
    expect(listed.stderr).toContain('Start MongoDB or correct source.mongodb.url');
    expect(listed.stderr).not.toContain('s3cret');
  }, 60_000);
});
