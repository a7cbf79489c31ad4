import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegisterUserBody } from '../../src/server/apiSchemas.js';
import { createHarness, type Harness, PASSWORD } from './serverHarness.js';

let h: Harness;
let doc: {
  openapi: string;
  paths: Record<
    string,
    Record<
      string,
      { operationId: string; responses: Record<string, unknown>; requestBody?: unknown }
    >
  >;
  components: { schemas: Record<string, unknown> };
};
beforeAll(async () => {
  h = await createHarness();
  const res = await h.request('/api/openapi.json');
  expect(res.status).toBe(200);
  doc = (await res.json()) as typeof doc;
});
afterAll(async () => {
  await h.close();
});

function refs(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) refs(v, out);
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refs(v, out);
    }
  }
  return out;
}

describe('GET /api/openapi.json', () => {
  it('is an OpenAPI 3.1 document describing every route the server answers', () => {
    expect(doc.openapi).toBe('3.1.0');
    const served = h.server.app.routes
      .filter((r) => r.method !== 'ALL' && !r.path.includes('*') && r.path !== '/')
      .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:([A-Za-z_]+)/g, '{$1}')}`);
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method} ${path}`),
    );
    expect([...new Set(served)].sort()).toEqual(documented.sort());
    expect(documented).toContain('get /api/v1/users');
    expect(documented).toContain('get /api/events/live');
  });

  it('gives each operation a unique id, responses, and only references schemas it defines', () => {
    const ids = Object.values(doc.paths).flatMap((ops) =>
      Object.values(ops).map((o) => o.operationId),
    );
    expect(new Set(ids).size).toBe(ids.length);
    for (const ops of Object.values(doc.paths)) {
      for (const op of Object.values(ops))
        expect(Object.keys(op.responses).length).toBeGreaterThan(0);
    }
    for (const ref of refs(doc)) {
      expect(ref).toMatch(/^#\/components\/schemas\//);
      expect(doc.components.schemas[ref.slice('#/components/schemas/'.length)], ref).toBeDefined();
    }
  });

  it('documents request bodies as strict objects and the problem format for errors', () => {
    const register = doc.components.schemas.RegisterUser as {
      additionalProperties: boolean;
      required: string[];
    };
    expect(register.additionalProperties).toBe(false);
    expect(register.required.sort()).toEqual(['email', 'name', 'password', 'username']);
    const post = doc.paths['/api/v1/users']!.post!;
    expect(JSON.stringify(post.requestBody)).toContain('#/components/schemas/RegisterUser');
    expect(JSON.stringify(post.responses['400'])).toContain('application/problem+json');
    expect(JSON.stringify(post.responses['409'])).toContain('#/components/schemas/Problem');
  });

  it('matches the server: integer query bounds, header patterns, 429 where credentials are checked, 421 everywhere', () => {
    type Param = { name: string; in: string; schema: Record<string, unknown> };
    const params = (path: string, method: string) =>
      (doc.paths[path]![method] as unknown as { parameters: Param[] }).parameters;
    const limit = params('/api/events', 'get').find((p) => p.name === 'limit')!;
    expect(limit.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 1000 });
    const key = params('/api/v2/tweets', 'post').find((p) => p.name === 'Idempotency-Key')!;
    expect(key.schema).toEqual({ type: 'string', pattern: '^[!-~]{1,255}$' });
    const ifMatch = params('/api/v1/users/{id}', 'put').find((p) => p.name === 'If-Match')!;
    expect(new RegExp(ifMatch.schema.pattern as string).test('"3"')).toBe(true);
    expect(new RegExp(ifMatch.schema.pattern as string).test('W/"3"')).toBe(false);
    const remove = doc.paths['/api/v1/users/{id}']!.delete!.responses;
    expect(Object.keys(remove)).toEqual(expect.arrayContaining(['400', '412']));
    expect(doc.paths['/api/v2/tweets']!.post!.responses['422']).toBeDefined();

    expect(doc.paths['/api/session']!.post!.responses['429']).toBeDefined();
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const checksCredentials = (op as unknown as { security: unknown[] }).security.length > 0;
        if (checksCredentials)
          expect(op.responses['429'], `429 of ${method} ${path}`).toBeDefined();
        expect(op.responses['421'], `421 of ${method} ${path}`).toBeDefined();
      }
    }
  });

  it('documents the text rules as patterns that accept exactly what the server accepts', () => {
    const register = doc.components.schemas.RegisterUser as {
      properties: Record<string, { pattern?: string }>;
    };
    const pattern = new RegExp(register.properties.name!.pattern!);
    for (const name of [
      'Ada',
      ' Ada ',
      'a\u0085b',
      'Zoë\n',
      '   ',
      '\u00a0',
      'a\u0006',
      'x\u007f',
      '\ufeff',
    ]) {
      const accepted = RegisterUserBody.safeParse({
        username: 'ada',
        email: 'ada@example.com',
        name,
        password: PASSWORD,
      }).success;
      expect(pattern.test(name), JSON.stringify(name)).toBe(accepted);
    }
  });
});
