/**
 * Read-your-writes over a real socket, as `eventloom start` wires it (crypto shredding, the
 * shop's services running beside the projections): a write's response comes once the read
 * models include it, so the client's next read shows it — also when many clients write at
 * once and the projections commit their events in batches. The concurrent case runs on
 * PostgreSQL read models: their commits are real I/O, so without the wait the projection
 * is still behind when the read arrives (on SQLite it commits within the same turn).
 */
import { Pool } from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunningApp } from '../../src/server/index.js';
import { DATABASE_URL, serviceAvailable, uniqueName } from '../support/services.js';
import { sendFrom, useRealApp } from './realSocket.js';

const PASSWORD = 'correct horse battery';
const auth = (username: string): string =>
  'Basic ' + Buffer.from(`${username}:${PASSWORD}`).toString('base64');

interface ApiTweet {
  id: string;
  body: string;
}

async function register(app: RunningApp, username: string): Promise<void> {
  const res = await sendFrom('127.0.0.1', `${app.url}/api/v1/users`, {
    method: 'POST',
    body: { username, email: `${username}@example.com`, name: username, password: PASSWORD },
  });
  expect(res.status, res.text).toBe(201);
}

async function post(app: RunningApp, username: string, body: string) {
  return sendFrom('127.0.0.1', `${app.url}/api/v2/tweets`, {
    method: 'POST',
    headers: { authorization: auth(username) },
    body: { body },
  });
}

async function listTweets(app: RunningApp, username: string): Promise<ApiTweet[]> {
  const res = await sendFrom('127.0.0.1', `${app.url}/api/v2/tweets/${username}?limit=1000`);
  expect(res.status, res.text).toBe(200);
  return (res.json() as { tweets_list: ApiTweet[] }).tweets_list;
}

describe('read-your-writes over HTTP, SQLite read models', () => {
  const { app } = useRealApp(
    // Far longer than the test may take: a write that waited for the bound would time it out.
    { READ_YOUR_WRITES_MS: '600000' },
    'eventloom-ryw-',
  );

  it('answers a write at once, stored and with its position, when the projection it waits for has stopped', async () => {
    await register(app(), 'stopper');
    const tweets = app()
      .app.subscriptions()
      .find((s) => s.name === 'app-tweets');
    expect(tweets).toBeDefined();
    await tweets!.stop();

    const created = await post(app(), 'stopper', 'written while the projection is stopped');
    expect(created.status, created.text).toBe(201);
    const position = Number(created.headers['x-eventloom-position']);
    expect(position).toBeGreaterThan(0);
    expect(created.headers.etag).toBe('"1"');
    const { id } = (created.json() as { tweet: ApiTweet }).tweet;
    // The command is durable; the stopped read model does not show it.
    const [event] = await app().app.store.readStream(`tweet-${id}`);
    expect(event).toMatchObject({ type: 'TweetPosted', position });
    expect((await listTweets(app(), 'stopper')).map((t) => t.id)).not.toContain(id);
  });
});

describe('read-your-writes over HTTP, PostgreSQL read models', async () => {
  const postgres = await serviceAvailable('postgres');
  const schemas = [uniqueName('el_ryw'), uniqueName('el_ryw_bound')];
  const admin = new Pool({ connectionString: DATABASE_URL });
  afterAll(async () => {
    for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  });
  const pg = (schema: string, readYourWritesMs: string) => ({
    READ_MODELS: 'postgres',
    DATABASE_URL,
    DATABASE_SCHEMA: schema,
    READ_YOUR_WRITES_MS: readYourWritesMs,
  });
  const { app } = useRealApp(pg(schemas[0]!, '60000'), 'eventloom-ryw-pg-');
  const { app: bounded } = useRealApp(pg(schemas[1]!, '300'), 'eventloom-ryw-bound-');

  /** Holds the read models' table so that projections cannot commit (reads go on). */
  async function lockReadModels(schema: string) {
    const locker = await admin.connect();
    await locker.query('BEGIN');
    await locker.query(`LOCK TABLE ${schema}.eventloom_documents IN EXCLUSIVE MODE`);
    return async () => {
      await locker.query('ROLLBACK');
      locker.release();
    };
  }

  it.skipIf(!postgres)(
    'shows every one of 50 concurrent writers its tweet in the list it reads right after the 201',
    async () => {
      await register(app(), 'writer');
      const head = await app().app.store.headPosition();
      // While the projections cannot commit, every write gets appended; a response sent
      // before its projection committed would be followed by a read that misses it.
      const unlock = await lockReadModels(schemas[0]!);
      let pairs: Promise<{ i: number; seen: boolean }[]>;
      try {
        pairs = Promise.all(
          Array.from({ length: 50 }, async (_, i) => {
            const created = await post(app(), 'writer', `tweet number ${i}`);
            expect(created.status, created.text).toBe(201);
            const { id } = (created.json() as { tweet: ApiTweet }).tweet;
            // No min_position: the list must include the tweet because the write waited.
            const seen = (await listTweets(app(), 'writer')).some((t) => t.id === id);
            return { i, seen };
          }),
        );
        await expect.poll(() => app().app.store.headPosition()).toBeGreaterThanOrEqual(head + 50);
      } finally {
        await unlock();
      }
      expect((await pairs).filter((o) => !o.seen)).toEqual([]);
    },
  );

  it.skipIf(!postgres)(
    'answers a write after READ_YOUR_WRITES_MS when its projection cannot commit, and the read model catches up afterwards',
    async () => {
      await register(bounded(), 'blocked');
      const unlock = await lockReadModels(schemas[1]!);
      let id: string;
      try {
        const created = await post(bounded(), 'blocked', 'written while the read model is locked');
        expect(created.status, created.text).toBe(201);
        expect(Number(created.headers['x-eventloom-position'])).toBeGreaterThan(0);
        id = (created.json() as { tweet: ApiTweet }).tweet.id;
        expect((await listTweets(bounded(), 'blocked')).map((t) => t.id)).not.toContain(id);
      } finally {
        await unlock();
      }
      await expect
        .poll(async () => (await listTweets(bounded(), 'blocked')).map((t) => t.id))
        .toContain(id);
    },
  );
});
