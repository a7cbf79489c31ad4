import type { Context } from 'hono';

/** One invalid input: where (JSON pointer and dotted path) and what is wrong with it. */
export interface FieldError {
  /** RFC 6901 pointer into the request body (`/items/0/quantity`), or `header:If-Match`, `query:limit`. */
  pointer: string;
  /** The same place for people: `items[0].quantity`. */
  field: string;
  message: string;
}

/** The problem types the API answers with; `type` is `urn:eventloom:problem:<code>`. */
export const PROBLEM_TYPES = {
  'validation-failed': { status: 400, title: 'The request is invalid' },
  'malformed-request': { status: 400, title: 'The request is not valid HTTP' },
  'malformed-json': { status: 400, title: 'The request body is not valid JSON' },
  unauthorized: { status: 401, title: 'Authentication is required' },
  'invalid-credentials': { status: 401, title: 'Wrong username or password' },
  forbidden: { status: 403, title: 'Not allowed' },
  'csrf-failed': { status: 403, title: 'Cross-site request refused' },
  'not-found': { status: 404, title: 'Not found' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  'request-timeout': { status: 408, title: 'The request took too long to arrive' },
  conflict: { status: 409, title: 'Conflict with the current state' },
  'precondition-failed': { status: 412, title: 'The resource changed since you read it' },
  'payload-too-large': { status: 413, title: 'The request body is too large' },
  'unsupported-media-type': { status: 415, title: 'Unsupported content type' },
  'misdirected-request': { status: 421, title: 'This server does not answer for that host' },
  unprocessable: { status: 422, title: 'The request cannot be carried out' },
  'idempotency-key-reused': {
    status: 422,
    title: 'The Idempotency-Key was used for another request',
  },
  'rate-limited': { status: 429, title: 'Too many attempts' },
  'headers-too-large': { status: 431, title: 'The request headers are too large' },
  'internal-error': { status: 500, title: 'Internal error' },
  unavailable: { status: 503, title: 'Temporarily unavailable' },
} as const;

export type ProblemCode = keyof typeof PROBLEM_TYPES;

export interface ProblemInit {
  detail: string;
  errors?: FieldError[];
  /** Response headers (Retry-After, Allow, WWW-Authenticate…). */
  headers?: Record<string, string>;
  /** Extension members (e.g. `reason`, `current_version`). */
  extensions?: Record<string, unknown>;
  cause?: unknown;
}

/**
 * An RFC 9457 problem to answer with. Throw it from a handler; the error handler renders it
 * as `application/problem+json`.
 *
 * @example
 * throw new HttpProblem('not-found', { detail: `There is no user ${id}` });
 */
export class HttpProblem extends Error {
  readonly code: ProblemCode;
  readonly status: number;
  readonly init: ProblemInit;

  constructor(code: ProblemCode, init: ProblemInit) {
    super(init.detail, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'HttpProblem';
    this.code = code;
    this.status = PROBLEM_TYPES[code].status;
    this.init = init;
  }
}

export function isHttpProblem(e: unknown): e is HttpProblem {
  return e instanceof HttpProblem;
}

/** The `application/problem+json` response for a problem. */
export function problemResponse(c: Context, problem: HttpProblem): Response {
  const { detail, errors, headers, extensions } = problem.init;
  const body = {
    type: `urn:eventloom:problem:${problem.code}`,
    title: PROBLEM_TYPES[problem.code].title,
    status: problem.status,
    detail,
    instance: c.req.path,
    ...(errors !== undefined && errors.length > 0 ? { errors } : {}),
    ...extensions,
    request_id: c.get('requestId') as string | undefined,
  };
  return new Response(JSON.stringify(body), {
    status: problem.status,
    headers: {
      'content-type': 'application/problem+json; charset=utf-8',
      'x-request-id': String(body.request_id ?? ''),
      ...headers,
    },
  });
}

/**
 * A problem response for a request that never reached the app (no Hono context): the
 * adapter could not make a Request of it.
 */
export function bareProblemResponse(code: ProblemCode, detail: string): Response {
  const { status } = PROBLEM_TYPES[code];
  return new Response(bareProblemBody(code, detail), {
    status,
    headers: {
      'content-type': 'application/problem+json; charset=utf-8',
      'cache-control': 'no-store',
    },
  });
}

/**
 * A whole HTTP/1.1 problem response as bytes, for requests the HTTP parser refused before
 * any handler saw them (the connection closes after it).
 */
export function rawProblemResponse(code: ProblemCode, detail: string): string {
  const { status, title } = PROBLEM_TYPES[code];
  const body = bareProblemBody(code, detail);
  return [
    `HTTP/1.1 ${status} ${title}`,
    'Content-Type: application/problem+json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Cache-Control: no-store',
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

function bareProblemBody(code: ProblemCode, detail: string): string {
  const { status, title } = PROBLEM_TYPES[code];
  return JSON.stringify({ type: `urn:eventloom:problem:${code}`, title, status, detail });
}

/** `items[0].quantity` for the path segments `['items', 0, 'quantity']`. */
export function fieldOf(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out;
}

/** `/items/0/quantity` (RFC 6901) for the same path segments. */
export function pointerOf(path: readonly PropertyKey[]): string {
  return path.map((s) => `/${String(s).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}
