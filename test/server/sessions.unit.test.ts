import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness, PASSWORD } from './serverHarness.js';

let h: Harness;
afterEach(async () => {
  await h.close();
});

describe('browser sessions', () => {
  it('logs in with an httpOnly SameSite cookie and tells who is logged in with a CSRF token', async () => {
    h = await createHarness();
    const { id } = await h.register('ada');
    const res = await h.call('POST', '/api/session', {
      body: { username: 'ada', password: PASSWORD },
    });
    expect(res.status).toBe(200);
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^eventloom_session=[A-Za-z0-9_-]{43};/);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).toMatch(/Path=\//);
    const login = (await res.json()) as { csrf_token: string };
    const session = { cookie: cookie.split(';')[0]!, csrf: login.csrf_token };
    const me = await h.call('GET', '/api/session', { session });
    expect(await me.json()).toMatchObject({
      authenticated: true,
      via: 'session',
      user: { id, username: 'ada', role: 'user' },
      csrf_token: login.csrf_token,
    });
    expect(me.headers.get('cache-control')).toBe('no-store');
  });

  it('answers authenticated: false without a session, and 401 to a wrong password', async () => {
    h = await createHarness();
    await h.register('ada');
    expect(await (await h.request('/api/session')).json()).toEqual({ authenticated: false });
    const wrong = await h.call('POST', '/api/session', {
      body: { username: 'ada', password: 'nope' },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    expect(await wrong.json()).toMatchObject({ type: 'urn:eventloom:problem:invalid-credentials' });
    const unknown = await h.call('POST', '/api/session', {
      body: { username: 'nobody', password: 'nope' },
    });
    expect(unknown.status).toBe(401);
    expect((await unknown.json()) as object).toMatchObject({
      detail: 'The username or password is wrong',
    });
  });

  it('logs out: the cookie is cleared and the session no longer works', async () => {
    h = await createHarness();
    await h.register('ada');
    const session = await h.login('ada');
    const res = await h.call('DELETE', '/api/session', { session });
    expect(res.status).toBe(204);
    expect(res.headers.get('set-cookie')).toMatch(/eventloom_session=;.*Max-Age=0/i);
    expect(await (await h.call('GET', '/api/session', { session })).json()).toEqual({
      authenticated: false,
    });
    const tweet = await h.call('POST', '/api/v2/tweets', {
      session,
      body: { body: 'after logout' },
    });
    expect(tweet.status).toBe(401);
  });

  it('answers 401 to a forged or unknown session cookie', async () => {
    h = await createHarness();
    const res = await h.call('POST', '/api/v2/tweets', {
      session: { cookie: `eventloom_session=${'A'.repeat(43)}`, csrf: 'x' },
      body: { body: 'hi' },
    });
    expect(res.status).toBe(401);
  });
});

describe('CSRF protection', () => {
  it('refuses a cookie-authenticated write without the CSRF token with 403', async () => {
    h = await createHarness();
    await h.register('ada');
    const session = await h.login('ada');
    const missing = await h.call('POST', '/api/v2/tweets', {
      session,
      headers: { 'x-csrf-token': '' },
      body: { body: 'csrf?' },
    });
    expect(missing.status).toBe(403);
    expect(await missing.json()).toMatchObject({ type: 'urn:eventloom:problem:csrf-failed' });
    const other = await h.login('ada');
    const wrong = await h.call('POST', '/api/v2/tweets', {
      session,
      headers: { 'x-csrf-token': other.csrf },
      body: { body: 'csrf?' },
    });
    expect(wrong.status).toBe(403);
    const right = await h.call('POST', '/api/v2/tweets', { session, body: { body: 'with token' } });
    expect(right.status).toBe(201);
    expect((await h.store.readAll()).filter((e) => e.type === 'TweetPosted')).toHaveLength(1);
  });

  it('refuses writes from another site’s page, even with the right token or Basic credentials', async () => {
    h = await createHarness();
    await h.register('ada');
    const session = await h.login('ada');
    const cookie = await h.call('POST', '/api/v2/tweets', {
      session,
      headers: { origin: 'https://evil.example' },
      body: { body: 'x' },
    });
    expect(cookie.status).toBe(403);
    const basic = await h.call('POST', '/api/v2/tweets', {
      basic: ['ada', PASSWORD],
      headers: { 'sec-fetch-site': 'cross-site' },
      body: { body: 'x' },
    });
    expect(basic.status).toBe(403);
    const login = await h.call('POST', '/api/session', {
      headers: { origin: 'null' },
      body: { username: 'ada', password: PASSWORD },
    });
    expect(login.status).toBe(403);
    const same = await h.call('POST', '/api/v2/tweets', {
      session,
      headers: { origin: 'http://localhost' },
      body: { body: 'same origin' },
    });
    expect(same.status).toBe(201);
  });

  it('accepts an origin listed in allowedOrigins', async () => {
    h = await createHarness({ allowedOrigins: ['http://localhost:5173'] });
    await h.register('ada');
    const session = await h.login('ada');
    const res = await h.call('POST', '/api/v2/tweets', {
      session,
      headers: { origin: 'http://localhost:5173' },
      body: { body: 'from the dev server' },
    });
    expect(res.status).toBe(201);
  });
});

describe('login rate limiting', () => {
  it('answers 429 with Retry-After once an address failed too often for a username', async () => {
    h = await createHarness({ loginRateLimit: { maxFailures: 3, windowMs: 60_000 } });
    await h.register('ada');
    for (let i = 0; i < 3; i++) {
      const res = await h.call('POST', '/api/session', {
        body: { username: 'ada', password: `guess-${i}` },
      });
      expect(res.status).toBe(401);
    }
    const limited = await h.call('POST', '/api/session', {
      body: { username: 'ada', password: PASSWORD },
    });
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(await limited.json()).toMatchObject({ status: 429, retry_after_seconds: retryAfter });
    // Basic credentials count against the same limit.
    const basic = await h.call('POST', '/api/v2/tweets', {
      basic: ['ada', PASSWORD],
      body: { body: 'x' },
    });
    expect(basic.status).toBe(429);
    // Another username from the same address is not blocked.
    await h.register('bob');
    expect(
      (await h.call('POST', '/api/session', { body: { username: 'bob', password: PASSWORD } }))
        .status,
    ).toBe(200);
  });

  it('counts parallel guesses before they fail, so a burst cannot slip through', async () => {
    h = await createHarness({ loginRateLimit: { maxFailures: 3, windowMs: 60_000 } });
    await h.register('ada');
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        h.call('POST', '/api/session', { body: { username: 'ada', password: `burst-${i}` } }),
      ),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 401)).toHaveLength(3);
    expect(statuses.filter((s) => s === 429)).toHaveLength(7);
  });

  it('lets a burst of requests with the right Basic credentials through, verifying them once', async () => {
    h = await createHarness({ loginRateLimit: { maxFailures: 3, windowMs: 60_000 } });
    await h.register('ada');
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        h.call('POST', '/api/v2/tweets', {
          basic: ['ada', PASSWORD],
          body: { body: `burst ${i}` },
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array.from({ length: 20 }, () => 201));
  });

  it('stops accepting the old Basic password right after a password change', async () => {
    h = await createHarness();
    const { id } = await h.register('ada');
    const tweet = (password: string) =>
      h.call('POST', '/api/v2/tweets', { basic: ['ada', password], body: { body: 'x' } });
    expect((await tweet(PASSWORD)).status).toBe(201);
    const change = await h.call('PUT', `/api/v1/users/${id}`, {
      basic: ['ada', PASSWORD],
      body: { password: 'the next password', current_password: PASSWORD },
    });
    expect(change.status).toBe(200);
    expect((await tweet(PASSWORD)).status).toBe(401);
    expect((await tweet('the next password')).status).toBe(201);
  });
});
