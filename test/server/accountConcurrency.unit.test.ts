import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness, PASSWORD } from './serverHarness.js';

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.close();
});

const registration = (username: string, email: string) => ({
  body: { username, email, name: 'Someone', password: PASSWORD },
});

describe('unique usernames and emails', () => {
  it('answers 409 for a taken username, whatever its case, naming the field', async () => {
    await h.register('ada');
    const res = await h.call('POST', '/api/v1/users', registration('ADA', 'other@example.com'));
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(await res.json()).toMatchObject({
      status: 409,
      reason: 'username_taken',
      errors: [{ field: 'username', pointer: '/username' }],
    });
  });

  it('answers 409 for a taken email, whatever its case, and frees the username it tried', async () => {
    await h.register('ada');
    const res = await h.call('POST', '/api/v1/users', registration('bob', 'Ada@Example.com'));
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ reason: 'email_taken', errors: [{ field: 'email' }] });
    const retry = await h.call('POST', '/api/v1/users', registration('bob', 'bob@example.com'));
    expect(retry.status).toBe(201);
  });

  it('lets exactly one of two concurrent registrations of a username succeed', async () => {
    for (let round = 0; round < 5; round++) {
      const [a, b] = await Promise.all([
        h.call('POST', '/api/v1/users', registration(`racer${round}`, `a${round}@example.com`)),
        h.call('POST', '/api/v1/users', registration(`racer${round}`, `b${round}@example.com`)),
      ]);
      expect([a.status, b.status].sort()).toEqual([201, 409]);
    }
    const users = (await (await h.request('/api/v1/users')).json()) as { user_list: unknown[] };
    expect(users.user_list).toHaveLength(5);
  });

  it('lets exactly one of two concurrent registrations of an email succeed', async () => {
    const [a, b] = await Promise.all([
      h.call('POST', '/api/v1/users', registration('first', 'same@example.com')),
      h.call('POST', '/api/v1/users', registration('second', 'same@example.com')),
    ]);
    expect([a.status, b.status].sort()).toEqual([201, 409]);
    // the loser's username claim was released
    const loser = a.status === 409 ? 'first' : 'second';
    const retry = await h.call(
      'POST',
      '/api/v1/users',
      registration(loser, `${loser}@example.com`),
    );
    expect(retry.status).toBe(201);
  });
});

describe('password changes', () => {
  const change = (
    id: string,
    session: { cookie: string; csrf: string },
    next: string,
    ifMatch?: string,
  ) =>
    h.call('PUT', `/api/v1/users/${id}`, {
      session,
      ...(ifMatch !== undefined ? { headers: { 'if-match': ifMatch } } : {}),
      body: { password: next, current_password: PASSWORD },
    });

  it('changes the password: the old one stops working, the new one works', async () => {
    const { id } = await h.register('ada');
    const session = await h.login('ada');
    const res = await change(id, session, 'a brand new password', '"1"');
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe('"2"');
    expect(
      (await h.call('POST', '/api/session', { body: { username: 'ada', password: PASSWORD } }))
        .status,
    ).toBe(401);
    expect(
      (
        await h.call('POST', '/api/session', {
          body: { username: 'ada', password: 'a brand new password' },
        })
      ).status,
    ).toBe(200);
  });

  it('answers 403 for a wrong current password, naming current_password', async () => {
    const { id } = await h.register('ada');
    const session = await h.login('ada');
    const res = await h.call('PUT', `/api/v1/users/${id}`, {
      session,
      body: { password: 'a brand new password', current_password: 'not it at all' },
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({
      reason: 'invalid_credentials',
      errors: [{ field: 'current_password' }],
    });
  });

  it('answers 412 for a password change with a stale If-Match', async () => {
    const { id } = await h.register('ada');
    const session = await h.login('ada');
    expect(
      (await h.call('PUT', `/api/v1/users/${id}`, { session, body: { name: 'Ada L.' } })).status,
    ).toBe(200);
    const res = await change(id, session, 'a brand new password', '"1"');
    expect(res.status).toBe(412);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
  });

  it('rejects the second of two concurrent password changes with 409', async () => {
    const { id } = await h.register('ada');
    const session = await h.login('ada');
    const [a, b] = await Promise.all([
      change(id, session, 'first new password', '"1"'),
      change(id, session, 'second new password', '"1"'),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const conflict = a.status === 409 ? a : b;
    expect(await conflict.json()).toMatchObject({
      status: 409,
      reason: 'concurrent_change',
      current_version: 2,
    });
    const winner = a.status === 200 ? 'first new password' : 'second new password';
    const loser = a.status === 200 ? 'second new password' : 'first new password';
    expect(
      (await h.call('POST', '/api/session', { body: { username: 'ada', password: winner } }))
        .status,
    ).toBe(200);
    expect(
      (await h.call('POST', '/api/session', { body: { username: 'ada', password: loser } })).status,
    ).toBe(401);
  });

  it('ends the user’s other sessions but keeps the one that changed the password', async () => {
    const { id } = await h.register('ada');
    const mine = await h.login('ada');
    const other = await h.login('ada');
    expect((await change(id, mine, 'a brand new password')).status).toBe(200);
    expect(await (await h.call('GET', '/api/session', { session: mine })).json()).toMatchObject({
      authenticated: true,
    });
    expect(await (await h.call('GET', '/api/session', { session: other })).json()).toEqual({
      authenticated: false,
    });
  });
});
