/**
 * A load test of the command endpoints: many concurrent authenticated commands through the
 * real HTTP server. It asserts correctness under load (every request answered 2xx, every
 * command appended exactly once, read models complete), never speed: throughput and p99 are
 * measured by `npx eventloom bench --backend http`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { afterAll, describe, expect, it } from 'vitest';
import { createProcessLogger } from '../../src/node/processLogger.js';
import { loadAppConfig, runApp } from '../../src/server/index.js';
import { testHasher } from './serverHarness.js';

const dir = mkdtempSync(join(tmpdir(), 'eventloom-load-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('command endpoints under load', () => {
  it('answers every concurrent tweet and order command and records each exactly once', async () => {
    const app = await runApp({
      config: loadAppConfig({
        PORT: '0',
        EVENTLOOM_DATA: dir,
        SEED_SAMPLE_DATA: 'false',
        EXPLORER_ACCESS: 'public', // reads the whole log anonymously to check it
      }),
      logger: createProcessLogger({ level: 'error', write: () => undefined }),
      hasher: testHasher(),
    });
    try {
      const password = 'correct horse battery';
      const register = await fetch(`${app.url}/api/v1/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          username: 'loader',
          email: 'loader@example.com',
          name: 'Load',
          password,
        }),
      });
      expect(register.status).toBe(201);
      const auth = 'Basic ' + Buffer.from(`loader:${password}`).toString('base64');
      const headers = { 'content-type': 'application/json', authorization: auth };
      const product = await fetch(`${app.url}/api/shop/products`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ name: 'Widget', price_cents: 250 }),
      });
      expect(product.status).toBe(201);
      const productId = ((await product.json()) as { product: { id: string } }).product.id;

      const result = await autocannon({
        url: app.url,
        connections: 8,
        amount: 600,
        requests: [
          {
            method: 'POST',
            path: '/api/v2/tweets',
            headers,
            body: JSON.stringify({ body: 'under load' }),
          },
          {
            method: 'POST',
            path: '/api/shop/orders',
            headers,
            body: JSON.stringify({ items: [{ product_id: productId, quantity: 1 }] }),
          },
        ],
      });
      expect(result.errors).toBe(0);
      expect(result.timeouts).toBe(0);
      expect(result.non2xx).toBe(0);
      expect(result['2xx']).toBe(600);

      // autocannon alternates the two requests per connection, so the split is near half.
      const all: { type: string; position: number }[] = [];
      for (let from = 0; ;) {
        const res = await fetch(`${app.url}/api/events?from=${from}&limit=500`);
        expect(res.status).toBe(200);
        const page = (await res.json()) as { events: { type: string; position: number }[] };
        if (page.events.length === 0) break;
        all.push(...page.events);
        from = page.events.at(-1)!.position + 1;
      }
      const tweeted = all.filter((e) => e.type === 'TweetPosted').length;
      const ordered = all.filter((e) => e.type === 'OrderPlaced').length;
      expect(tweeted + ordered).toBe(600);
      expect(tweeted).toBeGreaterThan(250);
      const tweets = (await (await fetch(`${app.url}/api/v2/tweets/loader?limit=1000`)).json()) as {
        tweets_list: unknown[];
      };
      expect(tweets.tweets_list).toHaveLength(tweeted);
      const orders = (await (
        await fetch(`${app.url}/api/shop/orders?limit=1000`, { headers })
      ).json()) as {
        orders: unknown[];
      };
      expect(orders.orders).toHaveLength(ordered);
    } finally {
      await app.close();
    }
  }, 120_000);
});
