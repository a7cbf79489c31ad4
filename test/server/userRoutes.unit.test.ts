import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiInfo, UserCreated, UserDetails, UserList } from '../../src/server/apiSchemas.js';
import { createHarness, type Harness, PASSWORD } from './serverHarness.js';

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.close();
});

describe('GET /api/v1/info', () => {
  it('answers the API versions in the source material’s shape', async () => {
    const res = await h.request('/api/v1/info');
    expect(res.status).toBe(200);
    const body = ApiInfo.parse(await res.json());
    expect(body.api_version.map((v) => v.links)).toContain('/api/v1/users');
    expect(body.api_version.map((v) => v.links)).toContain('/api/v2/tweets');
  });
});

describe('/api/v1/users', () => {
  it('registers a user with 201, a Location, an ETag and no password in the answer', async () => {
    const res = await h.call('POST', '/api/v1/users', {
      body: { username: 'ada', email: 'ada@example.com', name: 'Ada Lovelace', password: PASSWORD },
    });
    expect(res.status).toBe(201);
    const body = UserCreated.parse(await res.json());
    expect(body.user).toMatchObject({
      username: 'ada',
      name: 'Ada Lovelace',
      email: 'ada@example.com',
      version: 1,
    });
    expect(res.headers.get('location')).toBe(`/api/v1/users/${body.user.id}`);
    expect(res.headers.get('etag')).toBe('"1"');
    expect(Number(res.headers.get('x-eventloom-position'))).toBeGreaterThan(0);
    expect(JSON.stringify(body)).not.toMatch(/password|hash/i);
  });

  it('lists users as user_list right after registering, without emails for anonymous readers', async () => {
    await h.register('ada');
    await h.register('grace');
    const res = await h.request('/api/v1/users');
    expect(res.status).toBe(200);
    const body = UserList.parse(await res.json());
    expect(body.user_list.map((u) => u.username)).toEqual(['ada', 'grace']);
    for (const user of body.user_list) {
      expect(Object.keys(user).sort()).toEqual([
        'created_at',
        'id',
        'name',
        'updated_at',
        'username',
        'version',
      ]);
    }
  });

  it('shows a user their own email in the list, and every email to an admin', async () => {
    await h.register('ada');
    await h.register('root');
    const own = UserList.parse(
      await (await h.call('GET', '/api/v1/users', { basic: ['ada', PASSWORD] })).json(),
    );
    expect(own.user_list.find((u) => u.username === 'ada')?.email).toBe('ada@example.com');
    expect(own.user_list.find((u) => u.username === 'root')?.email).toBeUndefined();
    const admin = UserList.parse(
      await (await h.call('GET', '/api/v1/users', { basic: ['root', PASSWORD] })).json(),
    );
    expect(admin.user_list.every((u) => u.email !== undefined)).toBe(true);
  });

  it('gets one user by id or by username as user_details with its version as ETag', async () => {
    const { id } = await h.register('ada');
    for (const key of [id, 'ada', 'ADA']) {
      const res = await h.request(`/api/v1/users/${key}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('etag')).toBe('"1"');
      const body = UserDetails.parse(await res.json());
      expect(body.user_details).toHaveLength(1);
      expect(body.user_details[0]).toMatchObject({ id, username: 'ada' });
    }
    const missing = await h.request('/api/v1/users/nobody');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toContain('application/problem+json');
  });

  it('updates name and email with If-Match and answers the new ETag', async () => {
    const { id } = await h.register('ada');
    const session = await h.login('ada');
    const res = await h.call('PUT', `/api/v1/users/${id}`, {
      session,
      headers: { 'if-match': '"1"' },
      body: { name: 'Countess Ada', email: 'countess@example.com' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe('"2"');
    expect(UserCreated.parse(await res.json()).user).toMatchObject({
      name: 'Countess Ada',
      email: 'countess@example.com',
      version: 2,
    });
    // the old email is free again, the new one is taken
    const reuse = await h.call('POST', '/api/v1/users', {
      body: { username: 'other', email: 'ada@example.com', name: 'Other', password: PASSWORD },
    });
    expect(reuse.status).toBe(201);
    const taken = await h.call('POST', '/api/v1/users', {
      body: { username: 'third', email: 'COUNTESS@example.com', name: 'Third', password: PASSWORD },
    });
    expect(taken.status).toBe(409);
  });

  it('answers 412 for a stale If-Match and changes nothing', async () => {
    const { id } = await h.register('ada');
    const session = await h.login('ada');
    const first = await h.call('PUT', `/api/v1/users/${id}`, { session, body: { name: 'One' } });
    expect(first.status).toBe(200);
    const stale = await h.call('PUT', `/api/v1/users/${id}`, {
      session,
      headers: { 'if-match': '"1"' },
      body: { name: 'Two' },
    });
    expect(stale.status).toBe(412);
    expect(await stale.json()).toMatchObject({ status: 412, reason: 'stale_version' });
    const now = UserDetails.parse(await (await h.request(`/api/v1/users/${id}`)).json());
    expect(now.user_details[0]?.name).toBe('One');
  });

  it('refuses to change someone else’s account with 403, but lets an admin', async () => {
    const { id } = await h.register('ada');
    await h.register('eve');
    await h.register('root');
    const eve = await h.call('PUT', `/api/v1/users/${id}`, {
      basic: ['eve', PASSWORD],
      body: { name: 'Hacked' },
    });
    expect(eve.status).toBe(403);
    const admin = await h.call('PUT', `/api/v1/users/${id}`, {
      basic: ['root', PASSWORD],
      body: { name: 'Fixed' },
    });
    expect(admin.status).toBe(200);
  });

  it('deletes a user: 204, then 404, and the username and email can be registered again', async () => {
    const { id } = await h.register('ada');
    const session = await h.login('ada');
    const res = await h.call('DELETE', `/api/v1/users/${id}`, {
      session,
      headers: { 'if-match': '"1"' },
    });
    expect(res.status).toBe(204);
    expect((await h.request(`/api/v1/users/${id}`)).status).toBe(404);
    expect(await h.call('GET', '/api/session', { session }).then((r) => r.json())).toEqual({
      authenticated: false,
    });
    const again = await h.register('ada');
    expect(again.id).not.toBe(id);
    const list = UserList.parse(await (await h.request('/api/v1/users')).json());
    expect(list.user_list.map((u) => u.id)).toEqual([again.id]);
  });

  it('answers 401 to writes without credentials', async () => {
    const { id } = await h.register('ada');
    const res = await h.call('PUT', `/api/v1/users/${id}`, { body: { name: 'x' } });
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
  });
});

describe('caching of personal responses', () => {
  it('sends Cache-Control: no-store on every API response that can carry personal data', async () => {
    const register = await h.call('POST', '/api/v1/users', {
      body: { username: 'ada', email: 'ada@example.com', name: 'Ada', password: PASSWORD },
    });
    const { id } = UserCreated.parse(await register.json()).user;
    const session = await h.login('ada');
    const responses = {
      register,
      login: await h.call('POST', '/api/session', {
        body: { username: 'ada', password: PASSWORD },
      }),
      user: await h.call('GET', `/api/v1/users/${id}`, { session }),
      users: await h.call('GET', '/api/v1/users', { session }),
      update: await h.call('PUT', `/api/v1/users/${id}`, { session, body: { name: 'Ada L.' } }),
      events: await h.request('/api/events'),
      stream: await h.request(`/api/streams/user-${id}`),
      orders: await h.call('GET', '/api/shop/orders', { session }),
      problem: await h.call('GET', '/api/v1/users/nobody', { session }),
    };
    for (const [name, res] of Object.entries(responses)) {
      expect(res.status, name).toBeLessThan(500);
      expect(res.headers.get('cache-control'), name).toBe('no-store');
    }
    const live = await h.request('/api/events/live');
    expect(live.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(live.headers.get('cache-control')).toBe('no-store');
    await live.body?.cancel();
  });
});
