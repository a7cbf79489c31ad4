import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProcessLogger } from '../../src/node/processLogger.js';
import { loadAppConfig, runApp, type RunningApp } from '../../src/server/index.js';
import { sendFrom } from './realSocket.js';
import { PASSWORD, testHasher } from './serverHarness.js';

// Every limit here is the default `eventloom start` runs with, seen over real sockets from
// several loopback addresses.
const dirs: string[] = [];
const running: RunningApp[] = [];

async function start(env: Record<string, string> = {}): Promise<RunningApp> {
  const dir = mkdtempSync(join(tmpdir(), 'eventloom-throttle-'));
  dirs.push(dir);
  const app = await runApp({
    config: loadAppConfig({
      PORT: '0',
      EVENTLOOM_DATA: dir,
      SEED_SAMPLE_DATA: 'false',
      READ_YOUR_WRITES_MS: '0',
      ...env,
    }),
    logger: createProcessLogger({ level: 'error', write: () => undefined }),
    hasher: testHasher(),
  });
  running.push(app);
  return app;
}

afterAll(async () => {
  for (const app of running.splice(0)) await app.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function register(app: RunningApp, username: string): Promise<void> {
  const res = await sendFrom('127.0.0.1', `${app.url}/api/v1/users`, {
    method: 'POST',
    body: { username, email: `${username}@example.com`, name: username, password: PASSWORD },
  });
  expect(res.status, res.text).toBe(201);
}

const logIn = (
  app: RunningApp,
  from: string,
  username: string,
  password: string,
  headers: Record<string, string> = {},
) =>
  sendFrom(from, `${app.url}/api/session`, {
    method: 'POST',
    body: { username, password },
    headers,
  });

const basicAuth = (username: string, password: string) =>
  `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;

describe('login throttling by client address', () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await start();
    await register(app, 'ada');
    await register(app, 'bob');
  });

  it('slows down an address that guesses one account, while the owner still logs in from theirs', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++)
      statuses.push((await logIn(app, '127.0.0.2', 'ada', `guess-${i}`)).status);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5)).toEqual([429, 429]);
    const limited = await logIn(app, '127.0.0.2', 'ada', PASSWORD);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.headers['content-type']).toMatch(/^application\/problem\+json/);

    const owner = await logIn(app, '127.0.0.3', 'ada', PASSWORD);
    expect(owner.status, owner.text).toBe(200);
    const basic = await sendFrom('127.0.0.3', `${app.url}/api/session`, {
      headers: { authorization: basicAuth('ada', PASSWORD) },
    });
    expect(basic.status).toBe(200);
    expect(basic.json()).toMatchObject({ authenticated: true, user: { username: 'ada' } });
  });

  it('slows down one address spraying many usernames without locking anyone else out', async () => {
    for (let i = 0; i < 50; i++) {
      const res = await logIn(app, '127.0.0.4', `nobody-${i}`, 'guess');
      expect(res.status, `attempt ${i}`).toBe(401);
    }
    expect((await logIn(app, '127.0.0.4', 'nobody-next', 'guess')).status).toBe(429);
    expect((await logIn(app, '127.0.0.4', 'bob', PASSWORD)).status).toBe(429);

    expect((await logIn(app, '127.0.0.5', 'bob', PASSWORD)).status).toBe(200);
    expect((await logIn(app, '127.0.0.6', 'nobody-else', 'guess')).status).toBe(401);
  });

  it('counts wrong HTTP Basic credentials against the same limits as session logins', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await sendFrom('127.0.0.8', `${app.url}/api/shop/orders`, {
        headers: { authorization: basicAuth('bob', `guess-${i}`) },
      });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    expect((await logIn(app, '127.0.0.8', 'bob', PASSWORD)).status).toBe(429);
    const elsewhere = await sendFrom('127.0.0.9', `${app.url}/api/shop/orders`, {
      headers: { authorization: basicAuth('bob', PASSWORD) },
    });
    expect(elsewhere.status, elsewhere.text).toBe(200);
  });

  it('ignores X-Forwarded-For without TRUST_PROXY, so spoofed addresses gain nothing', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await logIn(app, '127.0.0.7', 'bob', `guess-${i}`, {
        'x-forwarded-for': `198.51.100.${i + 1}`,
      });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
  });
});

describe('login throttling behind a trusted proxy (TRUST_PROXY=1)', () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await start({ TRUST_PROXY: '1' });
    await register(app, 'ada');
  });

  it('limits the address the proxy appended to X-Forwarded-For, not what the client wrote before it', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await logIn(app, '127.0.0.1', 'ada', `guess-${i}`, {
        'x-forwarded-for': `198.51.100.${i + 1}, 203.0.113.5`,
      });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    const other = await logIn(app, '127.0.0.1', 'ada', PASSWORD, {
      'x-forwarded-for': '203.0.113.6',
    });
    expect(other.status, other.text).toBe(200);
  });
});
