import { z } from 'zod';
import { apiSchemas, integerParams } from './apiSchemas.js';
import type { RouteSpec } from './apiRouter.js';
import { PROBLEM_TYPES } from './problem.js';

type JsonObject = Record<string, unknown>;

const REF = (id: string) => ({ $ref: `#/components/schemas/${id}` });

/** A schema as JSON Schema 2020-12 (OpenAPI 3.1's dialect), named ones by reference. */
function schemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonObject {
  const id = apiSchemas.get(schema)?.id;
  if (id !== undefined) return REF(id);
  const json = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
    metadata: apiSchemas,
    override: ({ zodSchema, jsonSchema }) => {
      const bounds = integerParams.get(zodSchema as unknown as z.ZodType);
      if (bounds === undefined) return;
      for (const key of Object.keys(jsonSchema)) delete (jsonSchema as JsonObject)[key];
      Object.assign(jsonSchema, { type: 'integer', ...bounds });
    },
  }) as JsonObject;
  // Named schemas inside are components already: point at those instead of local $defs.
  delete json.$schema;
  delete json.$defs;
  return JSON.parse(
    JSON.stringify(json).replaceAll('"#/$defs/', '"#/components/schemas/'),
  ) as JsonObject;
}

function components(): JsonObject {
  const { schemas } = z.toJSONSchema(apiSchemas, {
    target: 'draft-2020-12',
    io: 'output',
    unrepresentable: 'any',
    metadata: apiSchemas,
    uri: (ref) => `#/components/schemas/${ref}`,
  }) as { schemas: Record<string, JsonObject> };
  for (const schema of Object.values(schemas)) {
    delete schema.$schema;
    delete schema.$id;
  }
  return schemas;
}

function parameters(spec: RouteSpec): JsonObject[] {
  const out: JsonObject[] = [];
  const add = (where: 'path' | 'query', schema: z.ZodType | undefined) => {
    if (schema === undefined) return;
    const json = schemaOf(schema, 'input') as {
      properties?: Record<string, JsonObject>;
      required?: string[];
    };
    for (const [name, property] of Object.entries(json.properties ?? {})) {
      const { description, ...rest } = property as { description?: string };
      out.push({
        name,
        in: where,
        required: where === 'path' || (json.required ?? []).includes(name),
        ...(description !== undefined ? { description } : {}),
        schema: rest,
      });
    }
  };
  add('path', spec.params);
  add('query', spec.query);
  for (const header of spec.headers ?? []) {
    out.push({
      name: header.name,
      in: 'header',
      required: header.required ?? false,
      description: header.description,
      schema: {
        type: 'string',
        ...(header.pattern !== undefined ? { pattern: header.pattern.source } : {}),
      },
    });
  }
  return out;
}

const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: REF('Problem') } },
});

function responses(spec: RouteSpec): JsonObject {
  const out: JsonObject = {};
  for (const [status, response] of Object.entries(spec.responses)) {
    const ok = Number(status) < 400;
    const content =
      response.schema !== undefined
        ? {
            [response.contentType ?? 'application/json']: {
              schema: schemaOf(response.schema, 'output'),
            },
          }
        : response.contentType !== undefined
          ? { [response.contentType]: { schema: { type: 'string' } } }
          : ok
            ? undefined
            : { 'application/problem+json': { schema: REF('Problem') } };
    out[status] = {
      description: response.description,
      ...(content !== undefined ? { content } : {}),
      ...(response.headers !== undefined
        ? {
            headers: Object.fromEntries(
              Object.entries(response.headers).map(([name, description]) => [
                name,
                { description, schema: { type: 'string' } },
              ]),
            ),
          }
        : {}),
    };
  }
  const common: [number, string, boolean][] = [
    [
      400,
      'Invalid input: `errors` names each invalid field',
      spec.body !== undefined ||
        spec.query !== undefined ||
        (spec.headers ?? []).some((h) => h.pattern !== undefined),
    ],
    [
      401,
      'Not authenticated, or the credentials sent are wrong',
      spec.auth !== 'none' || spec.operationId === 'logIn',
    ],
    [
      403,
      'CSRF check failed (send x-csrf-token with the session cookie), or not allowed',
      spec.method !== 'get' || spec.auth === 'explorer',
    ],
    [
      412,
      'If-Match names a version other than the current one: read it again',
      (spec.headers ?? []).some((h) => h.name === 'If-Match'),
    ],
    [413, 'The body is larger than the limit', spec.body !== undefined],
    [415, 'The body is not JSON', spec.body !== undefined],
    [
      421,
      'The Host header names a server this is not (set PUBLIC_ORIGIN for the public name)',
      true,
    ],
    [
      422,
      'The Idempotency-Key was used before for a request with another body',
      (spec.headers ?? []).some((h) => h.name === 'Idempotency-Key'),
    ],
    [
      429,
      'Too many failed logins from this address; see Retry-After',
      spec.auth !== 'none' || spec.operationId === 'logIn',
    ],
    [500, 'Unexpected error (the request id is in the logs)', true],
    [503, 'The event store is unavailable; retry', true],
  ];
  for (const [status, description, applies] of common) {
    if (applies && out[status] === undefined) out[status] = problem(description);
  }
  return out;
}

/**
 * The OpenAPI 3.1 document of every route registered through the API router.
 */
export function openApiDocument(specs: readonly RouteSpec[], version: string): JsonObject {
  const paths: Record<string, JsonObject> = {};
  for (const spec of specs) {
    const path = spec.path.replace(/:([A-Za-z_]+)/g, '{$1}');
    const security =
      spec.auth === 'none'
        ? []
        : spec.auth === 'optional' || spec.auth === 'explorer'
          ? [{}, { sessionCookie: [] }, { basicAuth: [] }]
          : [{ sessionCookie: [], csrfToken: [] }, { basicAuth: [] }];
    (paths[path] ??= {})[spec.method] = {
      operationId: spec.operationId,
      summary: spec.summary,
      ...(spec.description !== undefined ? { description: spec.description } : {}),
      tags: spec.tags,
      security,
      parameters: parameters(spec),
      ...(spec.body !== undefined
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: schemaOf(spec.body, 'input') } },
            },
          }
        : {}),
      responses: responses(spec),
    };
  }
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'Eventloom reference application',
      version,
      description: [
        'Accounts, a tweet feed and a shop on an event store, plus the generic store API of the event explorer.',
        'Errors are RFC 9457 `application/problem+json`; `type` is `urn:eventloom:problem:<code>` with the codes: ' +
          Object.entries(PROBLEM_TYPES)
            .map(([code, p]) => `${code} (${p.status})`)
            .join(', ') +
          '.',
        'Writes answer `ETag` (the stream version) and `X-Eventloom-Position`; send `If-Match` to refuse a stale write (412), and pass the position as `min_position` to a list to read your own write.',
        'App resources use snake_case like the source material; the store API shows events exactly as the library types them.',
      ].join('\n\n'),
    },
    tags: [
      { name: 'users', description: 'Accounts (the source material\u2019s /api/v1)' },
      { name: 'session', description: 'Browser login with an httpOnly cookie' },
      { name: 'tweets', description: 'The feed (the source material\u2019s /api/v2)' },
      { name: 'shop', description: 'Products, orders, payments' },
      { name: 'event store', description: 'The log, streams, time travel, lag, rate' },
      { name: 'operations', description: 'Health, metrics, this document' },
    ],
    paths,
    components: {
      schemas: components(),
      securitySchemes: {
        sessionCookie: {
          type: 'apiKey',
          in: 'cookie',
          name: 'eventloom_session',
          description: 'From POST /api/session (named __Host-eventloom_session over HTTPS)',
        },
        csrfToken: {
          type: 'apiKey',
          in: 'header',
          name: 'x-csrf-token',
          description:
            'The csrf_token of GET /api/session; required with the cookie on POST/PUT/DELETE',
        },
        basicAuth: { type: 'http', scheme: 'basic', description: 'For API clients' },
      },
    },
  };
}
