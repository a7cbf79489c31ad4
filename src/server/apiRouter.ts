import type { Context, Hono } from 'hono';
import type { z } from 'zod';
import type { Actor } from '../app/index.js';
import type { ApiEnv, Authenticated } from './apiEnv.js';
import type { Authenticator } from './authentication.js';
import { IDEMPOTENCY_KEY } from './httpHelpers.js';
import type { IdempotencyRecords } from './idempotencyRecords.js';
import { HttpProblem } from './problem.js';
import { readJsonBody, readParams, readQuery } from './requestInput.js';

/**
 * Who may call a route: `none` ignores credentials, `optional` uses them when sent,
 * `required` answers 401 without them, `explorer` applies the explorer access policy.
 */
export type AuthMode = 'none' | 'optional' | 'required' | 'explorer';

/** Who may use the generic store API (events, streams, subscriptions). */
export type ExplorerAccess = 'public' | 'authenticated' | 'admin';

export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
  /** Default `application/json`. */
  contentType?: string;
  headers?: Record<string, string>;
}

export interface HeaderSpec {
  name: string;
  description: string;
  required?: boolean;
  /** What the server accepts (documented as the header schema's pattern). */
  pattern?: RegExp;
}

export interface RouteSpec<
  A extends AuthMode = AuthMode,
  B extends z.ZodType | undefined = z.ZodType | undefined,
  Q extends z.ZodType | undefined = z.ZodType | undefined,
  P extends z.ZodType | undefined = z.ZodType | undefined,
> {
  method: 'get' | 'post' | 'put' | 'delete';
  /** Hono path, e.g. `/api/v1/users/:id`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tags: readonly string[];
  auth: A;
  body?: B;
  query?: Q;
  params?: P;
  headers?: readonly HeaderSpec[];
  /** Success (and route-specific error) responses; the common errors are added for you. */
  responses: Record<number, ResponseSpec>;
}

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface RouteInput<A extends AuthMode, B, Q, P> {
  body: Out<B>;
  query: Out<Q>;
  params: Out<P>;
  /** Set for `required` routes; maybe for the others. */
  auth: A extends 'required' ? Authenticated : Authenticated | undefined;
  actor: A extends 'required' ? Actor : Actor | undefined;
}

export interface ApiRouter {
  route<
    A extends AuthMode,
    B extends z.ZodType | undefined = undefined,
    Q extends z.ZodType | undefined = undefined,
    P extends z.ZodType | undefined = undefined,
  >(
    spec: RouteSpec<A, B, Q, P>,
    handler: (c: Context<ApiEnv>, input: RouteInput<A, B, Q, P>) => Response | Promise<Response>,
  ): void;
  readonly specs: readonly RouteSpec[];
  /** Resolves (once per request) who sends it. */
  authenticate(c: Context<ApiEnv>): Promise<Authenticated | undefined>;
}

/**
 * Registers routes on a Hono app together with their OpenAPI description: the spec's
 * schemas validate the request before the handler runs (auth first, then path, query and
 * body), so a handler only sees valid input and the document cannot drift from the code.
 */
export function createApiRouter(
  app: Hono<ApiEnv>,
  options: {
    authenticator: Authenticator;
    explorerAccess: ExplorerAccess;
    idempotency: IdempotencyRecords;
  },
): ApiRouter {
  const specs: RouteSpec[] = [];

  const authenticate = (c: Context<ApiEnv>): Promise<Authenticated | undefined> => {
    let auth = c.get('auth') as Promise<Authenticated | undefined> | undefined;
    if (auth === undefined) {
      auth = options.authenticator.resolve(c);
      c.set('auth', auth);
    }
    return auth;
  };

  const unauthorized = (detail: string): HttpProblem =>
    new HttpProblem('unauthorized', {
      detail,
      // No Basic challenge here: a browser would pop up its login dialog for XHR calls.
      headers: { 'www-authenticate': 'Session realm="eventloom"' },
    });

  async function authorize(c: Context<ApiEnv>, mode: AuthMode): Promise<Authenticated | undefined> {
    if (mode === 'none') return undefined;
    // Public explorer routes still resolve who asks: the subject sees their own personal data.
    if (mode === 'explorer' && options.explorerAccess === 'public') return authenticate(c);
    const auth = await authenticate(c);
    if (mode === 'optional') return auth;
    if (auth === undefined) {
      throw unauthorized('Log in first (POST /api/session) or send HTTP Basic credentials');
    }
    if (mode === 'explorer' && options.explorerAccess === 'admin' && auth.actor.role !== 'admin') {
      throw new HttpProblem('forbidden', { detail: 'The event explorer is for admins only' });
    }
    return auth;
  }

  return {
    specs,
    authenticate,
    route(spec, handler) {
      specs.push(spec);
      app.on(spec.method.toUpperCase(), spec.path, async (c) => {
        c.set('route', spec.path);
        const auth = await authorize(c, spec.auth);
        const params = spec.params ? readParams(c, spec.params) : undefined;
        const query = spec.query ? readQuery(c, spec.query) : undefined;
        const body = spec.body ? await readJsonBody(c, spec.body) : undefined;
        const key = c.req.header('idempotency-key');
        // An invalid key is the handler's 400; only valid ones are claimed.
        if (
          key !== undefined &&
          IDEMPOTENCY_KEY.test(key) &&
          spec.headers?.some((h) => h.name === 'Idempotency-Key')
        ) {
          // A key names one request of its user: the same key on another route (creating an
          // order, then paying it) is another request, not a retry.
          await options.idempotency.claim(auth?.actor.userId ?? '', key, {
            method: spec.method,
            path: c.req.path,
            query: query ?? null,
            body: body ?? null,
          });
        }
        return handler(c, {
          body,
          query,
          params,
          auth,
          actor: auth?.actor,
        } as RouteInput<typeof spec.auth, typeof spec.body, typeof spec.query, typeof spec.params>);
      });
    },
  };
}
