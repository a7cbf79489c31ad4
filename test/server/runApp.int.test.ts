import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createProcessLogger } from '../../src/node/processLogger.js';
import { loadAppConfig, runApp, type RunningApp } from '../../src/server/index.js';
import { DATABASE_URL, MONGODB_URL, serviceAvailable, uniqueName } from '../support/services.js';
import { testHasher } from './serverHarness.js';

const PASSWORD = 'correct horse battery';
const dirs: string[] = [];
const running: RunningApp[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'eventloom-app-'));
  dirs.push(dir);
  return dir;
};

afterEach(async () => {
  for (const app of running.splice(0)) await app.close();
});
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function start(env: Record<string, string>, logs: string[] = []): Promise<RunningApp> {
  // These suites read the explorer routes anonymously; the default is admin-only.
  const config = loadAppConfig({ PORT: '0', EXPLORER_ACCESS: 'public', ...env });
  const app = await runApp({
    config,
    logger: createProcessLogger({ level: 'debug', write: (l) => logs.push(l) }),
    hasher: testHasher(),
  });
  running.push(app);
  return app;
}

/** Closes the running apps, then drops their MongoDB database. */
async function closeAndDrop(dbName: string): Promise<void> {
  const { MongoClient } = await import('mongodb');
  for (const app of running.splice(0)) await app.close();
  const client = new MongoClient(MONGODB_URL);
  await client.db(dbName).dropDatabase();
  await client.close();
}

async function send(
  url: string,
  method: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  return fetch(url, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
}

describe('eventloom start on the embedded SQLite store', () => {
  it('serves the API over HTTP and keeps users, tweets and sessions across a restart', async () => {
    const data = tempDir();
    const first = await start({ EVENTLOOM_DATA: data });
    expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const reg = await send(`${first.url}/api/v1/users`, 'POST', {
      username: 'ada',
      email: 'ada@example.com',
      name: 'Ada',
      password: PASSWORD,
    });
    expect(reg.status).toBe(201);
    const login = await send(`${first.url}/api/session`, 'POST', {
      username: 'ada',
      password: PASSWORD,
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    const { csrf_token: csrf } = (await login.json()) as { csrf_token: string };
    const tweet = await send(
      `${first.url}/api/v2/tweets`,
      'POST',
      { body: 'before restart' },
      { cookie, 'x-csrf-token': csrf },
    );
    expect(tweet.status).toBe(201);
    const products = (await (await fetch(`${first.url}/api/shop/products`)).json()) as {
      products: unknown[];
    };
    expect(products.products).toHaveLength(3);
    expect(statSync(join(data, 'session-secret')).mode & 0o777).toBe(0o600);
    await first.close();

    const second = await start({ EVENTLOOM_DATA: data });
    const me = await (await fetch(`${second.url}/api/session`, { headers: { cookie } })).json();
    expect(me).toMatchObject({ authenticated: true, user: { username: 'ada' }, csrf_token: csrf });
    const again = await send(
      `${second.url}/api/v2/tweets`,
      'POST',
      { body: 'after restart' },
      { cookie, 'x-csrf-token': csrf },
    );
    expect(again.status).toBe(201);
    const tweets = (await (await fetch(`${second.url}/api/v2/tweets`)).json()) as {
      tweets_list: { body: string }[];
    };
    expect(tweets.tweets_list.map((t) => t.body)).toEqual(['after restart', 'before restart']);
    // the sample catalog is added once, however often the app starts
    const catalog = (await (await fetch(`${second.url}/api/shop/products`)).json()) as {
      products: unknown[];
    };
    expect(catalog.products).toHaveLength(3);
    const subs = (await (await fetch(`${second.url}/api/subscriptions`)).json()) as {
      head: number;
      subscriptions: { lag: number; state: string }[];
    };
    expect(subs.subscriptions.every((s) => s.lag === 0 && s.state === 'live')).toBe(true);
  });

  it('shuts down promptly while a live event stream is open', async () => {
    const app = await start({ EVENTLOOM_DATA: tempDir() });
    const live = await fetch(`${app.url}/api/events/live`);
    const reader = live.body!.getReader();
    await reader.read();
    const started = Date.now();
    await app.close();
    expect(Date.now() - started).toBeLessThan(3000);
    let done = false;
    while (!done) done = (await reader.read().catch(() => ({ done: true }))).done;
  });

  it('serves the built web UI from WEB_ROOT, with index.html for the UI’s own paths', async () => {
    const web = tempDir();
    writeFileSync(join(web, 'index.html'), '<!doctype html><title>UI</title><div id="root"></div>');
    mkdirSync(join(web, 'assets'));
    writeFileSync(join(web, 'assets', 'app.js'), 'console.log("ui")');
    const app = await start({ EVENTLOOM_DATA: tempDir(), WEB_ROOT: web });
    expect(await (await fetch(`${app.url}/`)).text()).toContain('<title>UI</title>');
    const asset = await fetch(`${app.url}/assets/app.js`);
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
    const spa = await fetch(`${app.url}/explorer/streams/user-1`, {
      headers: { accept: 'text/html' },
    });
    expect(await spa.text()).toContain('<title>UI</title>');
    expect(
      (await fetch(`${app.url}/api/nothing`, { headers: { accept: 'text/html' } })).status,
    ).toBe(404);
  });

  it('serves a placeholder page that links the API when no UI is built', async () => {
    const app = await start({ EVENTLOOM_DATA: tempDir(), WEB_ROOT: tempDir() });
    const page = await (await fetch(`${app.url}/`)).text();
    expect(page).toContain('/api/openapi.json');
  });

  it('keeps personal data under a key-encryption key generated once into the data folder, and refuses a malformed one with how to make one', async () => {
    const data = tempDir();
    const first = await start({ EVENTLOOM_DATA: data });
    const reg = await send(`${first.url}/api/v1/users`, 'POST', {
      username: 'ada',
      email: 'ada@example.com',
      name: 'Ada',
      password: PASSWORD,
    });
    const { user } = (await reg.json()) as { user: { id: string } };
    await first.close();
    running.splice(running.indexOf(first), 1);
    expect(statSync(join(data, 'master-key')).mode & 0o777).toBe(0o600);

    // The same generated key after a restart: the email still reads.
    const second = await start({ EVENTLOOM_DATA: data });
    const auth = `Basic ${Buffer.from(`ada:${PASSWORD}`).toString('base64')}`;
    const own = await send(`${second.url}/api/v1/users/${user.id}`, 'GET', undefined, {
      authorization: auth,
    });
    expect(await own.json()).toMatchObject({ user_details: [{ email: 'ada@example.com' }] });
    await second.close();
    running.splice(running.indexOf(second), 1);

    writeFileSync(join(data, 'master-key'), 'garbage\n');
    await expect(start({ EVENTLOOM_DATA: data })).rejects.toThrow(
      /master-key is malformed.*randomBytes\(32\)/,
    );
    await expect(
      start({ EVENTLOOM_DATA: tempDir(), EVENTLOOM_MASTER_KEY: 'Zm9v' }),
    ).rejects.toThrow(/EVENTLOOM_MASTER_KEY is malformed/);
  });

  it('refuses a port in use with a message that says what to do', async () => {
    const app = await start({ EVENTLOOM_DATA: tempDir() });
    const port = new URL(app.url).port;
    await expect(start({ EVENTLOOM_DATA: tempDir(), PORT: port })).rejects.toThrow(
      /in use; stop the other program or set PORT/,
    );
  });
});

describe('eventloom start with other read-model stores', async () => {
  const postgres = await serviceAvailable('postgres');
  const mongodb = await serviceAvailable('mongodb');

  it.skipIf(!postgres)(
    'builds the read models in PostgreSQL with READ_MODELS=postgres',
    async () => {
      const schema = uniqueName('el_app');
      const admin = new Pool({ connectionString: DATABASE_URL });
      try {
        const app = await start({
          EVENTLOOM_DATA: tempDir(),
          READ_MODELS: 'postgres',
          DATABASE_URL,
          DATABASE_SCHEMA: schema,
        });
        await send(`${app.url}/api/v1/users`, 'POST', {
          username: 'ada',
          email: 'ada@example.com',
          name: 'Ada',
          password: PASSWORD,
        });
        const users = (await (await fetch(`${app.url}/api/v1/users`)).json()) as {
          user_list: { username: string }[];
        };
        expect(users.user_list.map((u) => u.username)).toEqual(['ada']);
        const { rows } = await admin.query<{ doc: { username: string } }>(
          `SELECT doc FROM ${schema}.eventloom_documents WHERE collection = 'users'`,
        );
        expect(rows.map((r) => r.doc.username)).toEqual(['ada']);
        const health = (await (await fetch(`${app.url}/health`)).json()) as {
          readModels: string;
          status: string;
        };
        expect(health).toMatchObject({ status: 'ok', readModels: 'postgres' });
      } finally {
        for (const app of running.splice(0)) await app.close();
        await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await admin.end();
      }
    },
  );

  it.skipIf(!mongodb)('runs on MongoDB with EVENTLOOM_STORE=mongodb://…', async () => {
    const dbName = uniqueName('el_app');
    const app = await start({
      EVENTLOOM_DATA: tempDir(),
      EVENTLOOM_STORE: MONGODB_URL,
      EVENTLOOM_DB: dbName,
    });
    try {
      const reg = await send(`${app.url}/api/v1/users`, 'POST', {
        username: 'ada',
        email: 'ada@example.com',
        name: 'Ada',
        password: PASSWORD,
      });
      expect(reg.status).toBe(201);
      const tweet = await send(
        `${app.url}/api/v2/tweets`,
        'POST',
        { body: 'on mongo' },
        {
          authorization: `Basic ${Buffer.from(`ada:${PASSWORD}`).toString('base64')}`,
        },
      );
      expect(tweet.status).toBe(201);
      const tweets = (await (await fetch(`${app.url}/api/v2/tweets`)).json()) as {
        tweets_list: { body: string }[];
      };
      expect(tweets.tweets_list.map((t) => t.body)).toEqual(['on mongo']);
      const health = (await (await fetch(`${app.url}/health`)).json()) as { store: string };
      expect(health.store).toBe('mongodb');
    } finally {
      await closeAndDrop(dbName);
    }
  });
});

describe('the shop services of eventloom start on MongoDB', async () => {
  const mongodb = await serviceAvailable('mongodb');

  it.skipIf(!mongodb)(
    'reserves, ships and cancels orders with the workflows and timers in MongoDB',
    async () => {
      const dbName = uniqueName('el_orders');
      const app = await start({
        EVENTLOOM_DATA: tempDir(),
        EVENTLOOM_STORE: MONGODB_URL,
        EVENTLOOM_DB: dbName,
        SEED_SAMPLE_DATA: 'false',
        ORDER_PAYMENT_TIMEOUT_MS: '1500',
        SHIPPING_DELAY_MS: '100',
      });
      try {
        await send(`${app.url}/api/v1/users`, 'POST', {
          username: 'ada',
          email: 'ada@example.com',
          name: 'Ada',
          password: PASSWORD,
        });
        const auth = {
          authorization: `Basic ${Buffer.from(`ada:${PASSWORD}`).toString('base64')}`,
        };
        const product = (await (
          await send(
            `${app.url}/api/shop/products`,
            'POST',
            { name: 'Mug', price_cents: 300, stock: 4 },
            auth,
          )
        ).json()) as { product: { id: string } };
        const place = async () =>
          (
            (await (
              await send(
                `${app.url}/api/shop/orders`,
                'POST',
                { items: [{ product_id: product.product.id, quantity: 2 }] },
                auth,
              )
            ).json()) as { order: { id: string } }
          ).order.id;
        const status = async (id: string) =>
          (
            (await (
              await send(`${app.url}/api/shop/orders/${id}`, 'GET', undefined, auth)
            ).json()) as {
              order: { status: string };
            }
          ).order.status;
        const stock = async () =>
          (
            (await (
              await send(`${app.url}/api/shop/products/${product.product.id}`, 'GET')
            ).json()) as {
              product: { stock: number };
            }
          ).product.stock;
        const wait = { timeout: 20_000, interval: 100 };

        const paid = await place();
        const unpaid = await place();
        await expect.poll(() => status(paid), wait).toBe('reserved');
        const pay = await send(
          `${app.url}/api/shop/orders/${paid}/payments`,
          'POST',
          { amount_cents: 600, method: 'card' },
          auth,
        );
        expect(pay.status).toBe(201);
        await expect.poll(() => status(paid), wait).toBe('shipped');
        await expect.poll(() => status(unpaid), wait).toBe('cancelled');
        await expect.poll(stock, wait).toBe(2);
      } finally {
        await closeAndDrop(dbName);
      }
    },
  );
});

describe('the eventloom start command', () => {
  it('prints the URL, answers, and exits cleanly on SIGTERM', async () => {
    const data = tempDir();
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        "const { run } = await import('./src/cli/main.ts'); process.exitCode = await run(process.argv.slice(0, 1).concat(['eventloom', 'start', '--port', '0']));",
      ],
      {
        cwd: join(import.meta.dirname, '../..'),
        env: { ...process.env, EVENTLOOM_DATA: data, LOG_LEVEL: 'info' },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL within 30 s: ${stderr}`)), 30_000);
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        const match = /running at (http:\/\/\S+)/.exec(stdout);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
      child.once('exit', (code) => reject(new Error(`exited with ${code}: ${stderr}`)));
    });
    expect((await fetch(`${url}/health`)).status).toBe(200);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const lines = stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string });
    expect(lines.map((l) => l.msg)).toEqual(
      expect.arrayContaining(['eventloom started', 'shutting down', 'eventloom stopped']),
    );
  });
});
