import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness, PASSWORD } from './serverHarness.js';

let h: Harness;
let userId: string;
beforeAll(async () => {
  h = await createHarness({ maxBodyBytes: 2048, loginRateLimit: { maxFailures: 1_000_000 } });
  userId = (await h.register('ada')).id;
});
afterAll(async () => {
  await h.close();
});

const problemOf = async (res: Response) => {
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  return (await res.json()) as {
    type: string;
    title: string;
    status: number;
    detail: string;
    errors?: { pointer: string; field: string; message: string }[];
  };
};

describe('bad requests get a precise 4xx problem', () => {
  it('answers malformed JSON with 400 and the parser’s reason', async () => {
    const res = await h.call('POST', '/api/v1/users', { body: '{"username": "x",' });
    expect(res.status).toBe(400);
    const problem = await problemOf(res);
    expect(problem).toMatchObject({ type: 'urn:eventloom:problem:malformed-json', status: 400 });
    expect(problem.detail).toMatch(/not valid JSON/);
  });

  it('names every invalid field with a JSON pointer', async () => {
    const res = await h.call('POST', '/api/v1/users', {
      body: { username: 'a', email: 'not-an-email', name: '   ', password: 'short' },
    });
    expect(res.status).toBe(400);
    const problem = await problemOf(res);
    expect(problem.type).toBe('urn:eventloom:problem:validation-failed');
    expect(problem.errors?.map((e) => e.pointer).sort()).toEqual([
      '/email',
      '/name',
      '/password',
      '/username',
    ]);
  });

  it('refuses an email whose local part is longer than the 64 characters mail allows', async () => {
    const res = await h.call('POST', '/api/v1/users', {
      body: {
        username: 'longmail',
        email: `${'a'.repeat(65)}@example.com`,
        name: 'Long Mail',
        password: PASSWORD,
      },
    });
    expect(res.status).toBe(400);
    const errors = (await problemOf(res)).errors ?? [];
    expect(errors.map((e) => e.pointer)).toEqual(['/email']);
    expect(errors[0]?.message).toMatch(/64 characters/);
  });

  it('refuses control characters in text, which some read stores cannot even hold', async () => {
    const res = await h.call('POST', '/api/v2/tweets', {
      basic: ['ada', PASSWORD],
      body: { body: 'nul \u0000 here' },
    });
    expect(res.status).toBe(400);
    expect((await problemOf(res)).errors?.[0]).toMatchObject({
      pointer: '/body',
      message: 'must not contain control characters',
    });
    const multiline = await h.call('POST', '/api/v2/tweets', {
      basic: ['ada', PASSWORD],
      body: { body: 'two\nlines\tand a tab' },
    });
    expect(multiline.status).toBe(201);
  });

  it('treats a login name that cannot be a username as an unknown user', async () => {
    const res = await h.call('POST', '/api/session', {
      body: { username: 'a\u0000b/../c', password: 'x' },
    });
    expect(res.status).toBe(401);
  });

  it('rejects unknown fields, naming each of them', async () => {
    const res = await h.call('POST', '/api/v1/users', {
      body: {
        username: 'newbie',
        email: 'n@example.com',
        name: 'N',
        password: PASSWORD,
        admin: true,
        role: 'x',
      },
    });
    expect(res.status).toBe(400);
    const problem = await problemOf(res);
    expect(problem.errors).toEqual([
      { pointer: '/admin', field: 'admin', message: 'is not a known field; remove it' },
      { pointer: '/role', field: 'role', message: 'is not a known field; remove it' },
    ]);
    const nested = await h.call('POST', '/api/shop/orders', {
      basic: ['ada', PASSWORD],
      body: {
        items: [
          { product_id: '00000000-0000-4000-8000-000000000000', quantity: 1, price_cents: 1 },
        ],
      },
    });
    expect((await problemOf(nested)).errors).toEqual([
      {
        pointer: '/items/0/price_cents',
        field: 'items[0].price_cents',
        message: 'is not a known field; remove it',
      },
    ]);
  });

  it('answers an oversized body with 413 before reading it all', async () => {
    const res = await h.call('POST', '/api/v2/tweets', {
      basic: ['ada', PASSWORD],
      body: { body: 'x'.repeat(5000) },
    });
    expect(res.status).toBe(413);
    expect((await problemOf(res)).type).toBe('urn:eventloom:problem:payload-too-large');
  });

  it('answers 413 to an oversized chunked body without a Content-Length', async () => {
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 10; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(500)));
        controller.close();
      },
    });
    const init: RequestInit & { duplex: 'half' } = {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: chunks,
      duplex: 'half',
    };
    const res = await h.request('/api/v1/users', init);
    expect(res.status).toBe(413);
  });

  it('answers a body that is not JSON with 415, and an empty one with 400', async () => {
    const form = await h.call('POST', '/api/v1/users', {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'username=x',
    });
    expect(form.status).toBe(415);
    const empty = await h.call('POST', '/api/v1/users', {
      headers: { 'content-type': 'application/json' },
    });
    expect(empty.status).toBe(400);
  });

  it('answers a JSON value that is not an object with 400 at the root', async () => {
    for (const body of ['[]', 'null', '"text"', '42']) {
      const res = await h.call('POST', '/api/v1/users', { body });
      expect(res.status).toBe(400);
      expect((await problemOf(res)).errors?.[0]?.pointer).toBe('');
    }
  });

  it('answers bad query parameters with 400 naming the parameter', async () => {
    const res = await h.request('/api/events?from=-1&limit=abc');
    expect(res.status).toBe(400);
    const fields = (await problemOf(res)).errors?.map((e) => e.field).sort();
    expect(fields).toEqual(['query.from', 'query.limit']);
  });

  it('answers a malformed If-Match with 400 and an unknown path or method with 404/405', async () => {
    const badTag = await h.call('PUT', `/api/v1/users/${userId}`, {
      basic: ['ada', PASSWORD],
      headers: { 'if-match': 'W/"1", "2"' },
      body: { name: 'x' },
    });
    expect(badTag.status).toBe(400);
    expect((await problemOf(badTag)).errors?.[0]?.pointer).toBe('header:If-Match');
    const missing = await h.request('/api/nothing-here');
    expect(missing.status).toBe(404);
    await problemOf(missing);
    const method = await h.call('PATCH', '/api/v1/users');
    expect(method.status).toBe(405);
    expect(method.headers.get('allow')).toBe('GET, HEAD, POST');
  });

  it('answers malformed Basic credentials and other schemes with 401', async () => {
    for (const authorization of [
      'Basic !!!',
      'Basic ' + Buffer.from('no-colon').toString('base64'),
      'Bearer abc',
    ]) {
      const res = await h.call('POST', '/api/v2/tweets', {
        headers: { authorization },
        body: { body: 'x' },
      });
      expect(res.status).toBe(401);
      await problemOf(res);
    }
  });

  it('answers an invalid Idempotency-Key with 400', async () => {
    const res = await h.call('POST', '/api/v2/tweets', {
      basic: ['ada', PASSWORD],
      headers: { 'idempotency-key': 'x'.repeat(300) },
      body: { body: 'x' },
    });
    expect(res.status).toBe(400);
  });
});

describe('fuzzing the API with generated bad requests', () => {
  const paths = [
    '/api/v1/info',
    '/api/v1/users',
    `/api/v1/users/{id}`,
    '/api/v2/tweets',
    '/api/v2/tweets/{id}',
    '/api/session',
    '/api/shop/products',
    '/api/shop/products/{id}',
    '/api/shop/orders',
    '/api/shop/orders/{id}',
    '/api/shop/orders/{id}/payments',
    '/api/shop/payments',
    '/api/events',
    '/api/streams/{id}',
    '/api/streams/{id}/state',
    '/api/subscriptions',
    '/api/stats/event-rate',
    '/health',
    '/metrics',
  ];
  const json = fc.jsonValue({ maxDepth: 3 });
  const fieldNames = fc.constantFrom(
    'username',
    'email',
    'name',
    'password',
    'current_password',
    'body',
    'items',
    'product_id',
    'quantity',
    'price_cents',
    'amount_cents',
    'method',
    'description',
    '__proto__',
    'constructor',
  );
  const bodies = fc.oneof(
    fc.string({ maxLength: 200 }),
    json.map((v) => JSON.stringify(v)),
    fc.dictionary(fieldNames, json, { maxKeys: 6 }).map((v) => JSON.stringify(v)),
    fc
      .record({
        items: fc.array(fc.dictionary(fieldNames, json, { maxKeys: 3 }), { maxLength: 3 }),
      })
      .map((v) => JSON.stringify(v)),
  );
  const segment = fc.oneof(
    fc.constant(() => userId),
    fc.string({ maxLength: 40 }).map((s) => () => encodeURIComponent(s) || 'x'),
    fc.uuid().map((s) => () => s),
    fc.constantFrom('ada', 'user-1', '..', '%00', 'a%2Fb').map((s) => () => s),
  );
  const query = fc.dictionary(
    fc.constantFrom(
      'from',
      'limit',
      'version',
      'window',
      'bucket',
      'types',
      'min_position',
      'direction',
      'x',
    ),
    fc.oneof(fc.string({ maxLength: 12 }), fc.integer().map(String), fc.constant('9'.repeat(30))),
    { maxKeys: 3 },
  );
  const headers = fc.record(
    {
      'content-type': fc.constantFrom(
        'application/json',
        'text/plain',
        'application/merge-patch+json',
        '',
      ),
      'if-match': fc.oneof(
        fc.string({ maxLength: 12 }),
        fc.nat().map((n) => `"${n}"`),
      ),
      'idempotency-key': fc.string({ maxLength: 20 }).filter((s) => /^[\x20-\x7e]*$/.test(s)),
      authorization: fc.oneof(
        fc.constant(`Basic ${Buffer.from(`ada:${PASSWORD}`).toString('base64')}`),
        fc.string({ maxLength: 30 }).filter((s) => /^[\x20-\x7e]*$/.test(s)),
      ),
      'last-event-id': fc.string({ maxLength: 10 }).filter((s) => /^[\x20-\x7e]*$/.test(s)),
    },
    { requiredKeys: [] },
  );

  it('never answers a generated request with a 5xx, and answers every 4xx as problem+json', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'),
        fc.constantFrom(...paths),
        segment,
        query,
        bodies,
        headers,
        async (method, template, id, params, body, hdrs) => {
          const path =
            template.replace('{id}', id()) +
            (Object.keys(params).length > 0 ? `?${new URLSearchParams(params).toString()}` : '');
          if (path.startsWith('/api/events/live')) return;
          const res = await h.request(path, {
            method,
            headers: hdrs as Record<string, string>,
            ...(method === 'GET' ? {} : { body }),
          });
          const text = await res.text();
          expect(res.status, `${method} ${path} -> ${text}`).toBeLessThan(500);
          if (res.status >= 400) {
            expect(res.headers.get('content-type'), `${method} ${path}`).toMatch(
              /^application\/problem\+json/,
            );
            expect((JSON.parse(text) as { status: number }).status).toBe(res.status);
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});
