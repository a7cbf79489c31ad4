import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from './serverHarness.js';

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(async () => {
  await h.close();
});

const FIRST = 'first-Secret-passw0rd';
const SECOND = 'second-Secret-passw0rd';

describe('passwords and hashes never leave the credential store', () => {
  it('keeps every password and every hash out of responses, events, read models and logs', async () => {
    const responses: string[] = [];
    const keep = async (res: Response) => {
      responses.push(JSON.stringify([...res.headers]) + (await res.clone().text()));
      return res;
    };
    const reg = await keep(
      await h.call('POST', '/api/v1/users', {
        body: { username: 'ada', email: 'ada@example.com', name: 'Ada', password: FIRST },
      }),
    );
    const { user } = (await reg.json()) as { user: { id: string } };
    await keep(
      await h.call('POST', '/api/v1/users', {
        body: { username: 'ada', email: 'x@example.com', name: 'Ada', password: FIRST },
      }),
    );
    const login = await keep(
      await h.call('POST', '/api/session', { body: { username: 'ada', password: FIRST } }),
    );
    const session = {
      cookie: (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '',
      csrf: ((await login.json()) as { csrf_token: string }).csrf_token,
    };
    await keep(
      await h.call('POST', '/api/session', {
        body: { username: 'ada', password: 'wrong-' + FIRST },
      }),
    );
    await keep(
      await h.call('PUT', `/api/v1/users/${user.id}`, {
        session,
        body: { password: SECOND, current_password: FIRST },
      }),
    );
    await keep(
      await h.call('POST', '/api/v2/tweets', { basic: ['ada', SECOND], body: { body: 'hello' } }),
    );
    await keep(
      await h.call('POST', '/api/v2/tweets', {
        basic: ['ada', FIRST],
        body: { body: 'old password' },
      }),
    );
    for (const path of [
      '/api/v1/users',
      `/api/v1/users/${user.id}`,
      '/api/events?limit=1000',
      `/api/streams/user-${user.id}`,
      `/api/streams/user-${user.id}/state`,
      '/api/openapi.json',
      '/metrics',
    ]) {
      await keep(await h.call('GET', path, { session }));
    }

    const events = JSON.stringify(await h.store.readAll());
    const readModels = JSON.stringify(await h.app.queries.users());
    const logs = h.logs.join('\n');
    expect(h.logs.length).toBeGreaterThan(10);
    for (const [name, text] of [
      ['responses', responses.join('\n')],
      ['events', events],
      ['read models', readModels],
      ['logs', logs],
    ] as const) {
      expect(text, name).not.toContain(FIRST);
      expect(text, name).not.toContain(SECOND);
      expect(text, name).not.toContain('$argon2');
    }
    // The PasswordChanged event says that it changed, nothing more.
    const changed = (await h.store.readAll()).find((e) => e.type === 'PasswordChanged');
    expect(Object.keys(changed?.data as object)).toEqual(['credentialId']);
  });

  it('stores an argon2id hash under the id the user’s events reference, and deletes it with the user', async () => {
    const { id } = await h.register('ada');
    const [registered] = await h.store.readStream(`user-${id}`);
    const { credentialId } = registered?.data as { credentialId: string };
    const credential = h.privateDocuments.get<{ hash: string; userId: string }>(
      'app_credentials',
      credentialId,
    );
    expect(credential?.userId).toBe(id);
    expect(credential?.hash).toMatch(/^\$argon2id\$v=19\$/);
    const session = await h.login('ada');
    expect((await h.call('DELETE', `/api/v1/users/${id}`, { session })).status).toBe(204);
    expect(h.privateDocuments.find('app_credentials', { userId: id })).toEqual([]);
    expect(h.privateDocuments.find('app_sessions', { userId: id })).toEqual([]);
  });
});
