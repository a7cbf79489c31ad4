import { describe, expect, it, vi } from 'vitest';
import { createApiClient, isApiError } from '../src/api/apiClient.ts';

type Call = { url: string; init: RequestInit };

const problem = (status: number, code: string, detail: string, extra: object = {}) =>
  new Response(
    JSON.stringify({
      type: `urn:eventloom:problem:${code}`,
      title: code,
      status,
      detail,
      ...extra,
    }),
    { status, headers: { 'content-type': 'application/problem+json' } },
  );

function client(responses: (() => Response)[], token: string | undefined = 'token-1') {
  const calls: Call[] = [];
  const onUnauthorized = vi.fn();
  const refreshCsrfToken = vi.fn(async () => 'token-2');
  let current = token;
  const api = createApiClient({
    csrfToken: () => current,
    refreshCsrfToken: async () => {
      current = await refreshCsrfToken();
      return current;
    },
    onUnauthorized,
    fetch: async (url, init) => {
      calls.push({ url: url instanceof Request ? url.url : url.toString(), init: init ?? {} });
      const next = responses.shift();
      if (next === undefined) throw new TypeError('Failed to fetch');
      return next();
    },
  });
  const header = (i: number, name: string) => new Headers(calls[i]?.init.headers).get(name);
  return { api, calls, header, onUnauthorized, refreshCsrfToken };
}

describe('the API client', () => {
  it('sends the CSRF token and a JSON body on unsafe requests only, with the session cookie', async () => {
    const { api, calls, header } = client([
      () => Response.json({ ok: 1 }),
      () => Response.json({ ok: 2 }, { status: 201 }),
    ]);
    await api.get('/api/v2/tweets');
    await api.send('POST', '/api/v2/tweets', { body: 'hi' }, { 'idempotency-key': 'k' });
    expect(header(0, 'x-csrf-token')).toBeNull();
    expect(header(1, 'x-csrf-token')).toBe('token-1');
    expect(header(1, 'content-type')).toBe('application/json');
    expect(header(1, 'idempotency-key')).toBe('k');
    expect(calls[1]?.init.body).toBe('{"body":"hi"}');
    expect(calls.every((c) => c.init.credentials === 'same-origin')).toBe(true);
  });

  it('answers the ETag and the write position with the data', async () => {
    const { api } = client([
      () =>
        Response.json(
          { user: 1 },
          { status: 201, headers: { etag: '"3"', 'x-eventloom-position': '42' } },
        ),
    ]);
    expect(await api.send('PUT', '/api/v1/users/1', { name: 'x' })).toEqual({
      data: { user: 1 },
      status: 201,
      etag: '"3"',
      position: 42,
    });
  });

  it('throws the problem the API answered, with its field errors', async () => {
    const errors = [{ pointer: '/body', field: 'body', message: 'must not be blank' }];
    const { api } = client([
      () => problem(400, 'validation-failed', 'body: must not be blank', { errors }),
    ]);
    const error: unknown = await api
      .send('POST', '/api/v2/tweets', { body: ' ' })
      .catch((e: unknown) => e);
    expect(isApiError(error)).toBe(true);
    if (!isApiError(error)) return;
    expect(error.status).toBe(400);
    expect(error.code).toBe('validation-failed');
    expect(error.problem.errors).toEqual(errors);
  });

  it('fetches a fresh CSRF token once when the server refuses the one it sent', async () => {
    const { api, header, refreshCsrfToken } = client([
      () => problem(403, 'csrf-failed', 'send the token'),
      () => Response.json({ ok: true }),
    ]);
    await expect(api.send('DELETE', '/api/session')).resolves.toMatchObject({ data: { ok: true } });
    expect(refreshCsrfToken).toHaveBeenCalledTimes(1);
    expect(header(1, 'x-csrf-token')).toBe('token-2');
  });

  it('does not retry a refused CSRF token twice', async () => {
    const { api, calls } = client([
      () => problem(403, 'csrf-failed', 'send the token'),
      () => problem(403, 'csrf-failed', 'still not'),
    ]);
    await expect(api.send('POST', '/api/v2/tweets', {})).rejects.toThrow('still not');
    expect(calls).toHaveLength(2);
  });

  it('reports an ended session, and a network failure as a problem with status 0', async () => {
    const { api, onUnauthorized } = client([() => problem(401, 'unauthorized', 'Log in first')]);
    await expect(api.get('/api/shop/orders')).rejects.toThrow('Log in first');
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
    const error: unknown = await api.get('/api/v2/tweets').catch((e: unknown) => e);
    expect(isApiError(error) && error.problem.status).toBe(0);
    expect(isApiError(error) && error.problem.detail).toMatch(
      /Failed to fetch.*Check that Eventloom is running/,
    );
  });

  it('makes a problem of an error page that is not problem+json', async () => {
    const { api } = client([
      () => new Response('<html>Bad gateway</html>', { status: 502, statusText: 'Bad Gateway' }),
    ]);
    await expect(api.get('/api/v2/tweets')).rejects.toThrow('The server answered 502 Bad Gateway');
  });
});
