import { Hono } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import type { ReferenceApp } from '../app/index.js';
import {
  type DocumentStore,
  type Logger,
  newEventId,
  noopLogger,
  type ProjectionTarget,
} from '../core/index.js';
import { registerAccountRoutes } from './accountRoutes.js';
import type { ApiEnv } from './apiEnv.js';
import { createApiRouter, type ExplorerAccess } from './apiRouter.js';
import { createAuthenticator } from './authentication.js';
import { csrfGuard } from './csrfGuard.js';
import { toProblem } from './errorMapping.js';
import { createEventRateTracker } from './eventRate.js';
import { registerFeedRoutes } from './feedRoutes.js';
import { createLiveEvents } from './liveEvents.js';
import { createLoginRateLimiter, type LoginRateLimitOptions } from './loginRateLimiter.js';
import { createMetrics, type Metrics } from './metrics.js';
import { registerOpsRoutes } from './opsRoutes.js';
import { hostGuard } from './hostGuard.js';
import { createIdempotencyRecords } from './idempotencyRecords.js';
import { HttpProblem, problemResponse } from './problem.js';
import type { CookieSettings, RouteDeps } from './routeDeps.js';
import { createSessionStore } from './sessionStore.js';
import { registerSessionRoutes } from './sessionRoutes.js';
import { registerShopLiveRoutes } from './shopLiveRoutes.js';
import { registerShopRoutes } from './shopRoutes.js';
import { requestBodyLimit } from './requestBodyLimit.js';
import { type DevMailbox, registerDevMailRoutes } from './devMailRoutes.js';
import { serveWeb } from './staticWeb.js';
import { registerStoreRoutes } from './storeRoutes.js';
import { httpTracing } from './httpTracing.js';
import { createSubscriptionRegistry, type SubscriptionRegistry } from './subscriptionRegistry.js';
import { type AnyWorkflow, registerWorkflowRoutes } from './workflowRoutes.js';

export interface ServerOptions {
  /** The reference app (its store is the one the API reads and writes). */
  app: ReferenceApp;
  /** The app's read models (for /health). */
  readModels: ProjectionTarget;
  /** Where sessions live: private state, usually the event store's own database. */
  sessionDocuments: DocumentStore;
  /** HMAC key for CSRF tokens, at least 32 bytes, stable across restarts. */
  sessionSecret: string | Uint8Array;
  /** Default: no logging. */
  logger?: Logger;
  /** Who may use the store API (events, streams, subscriptions). Default `admin`. */
  explorerAccess?: ExplorerAccess;
  /** Origins of other pages allowed to call the API (dev servers). Default none. */
  allowedOrigins?: readonly string[];
  /** Mark cookies Secure (serve over HTTPS). Default false. */
  secureCookies?: boolean;
  /**
   * Host names (besides addresses and `localhost`, which always pass) this server answers
   * for; other Host headers get a 421 (DNS rebinding). Default none.
   */
  allowedHosts?: readonly string[];
  /** Trust X-Forwarded-* from a proxy in front. Default false. */
  trustProxy?: boolean;
  /** Largest request body in bytes (413 above). Default 64 KiB. */
  maxBodyBytes?: number;
  loginRateLimit?: LoginRateLimitOptions;
  /** How long writes wait for the read models to include them, in ms. Default 2000; 0: never. */
  readYourWritesMs?: number;
  /** Session lifetime. Default 7 days. */
  sessionTtlMs?: number;
  /** The built web UI's folder (served at /); a placeholder page when absent. */
  webRoot?: string;
  /** Projections, publishers… to report in /api/subscriptions and /metrics. Default: a new one with the app's projections. */
  registry?: SubscriptionRegistry;
  /** Shown by /health. */
  storeKind?: string;
  readModelKind?: string;
  /** Counts events appended (see `countingStore`); default: a new registry. */
  metrics?: Metrics;
  /** `GET /api/dev/emails` (see `registerDevMailRoutes`). Default: off (no such route). */
  devMailbox?: DevMailbox;
  /** Concurrent live (SSE) streams. Default 100. */
  maxLiveClients?: number;
  /** The workflows the explorer shows instances of (`/api/workflows`). Default none. */
  workflows?: readonly AnyWorkflow[];
  version?: string;
}

/** The HTTP server: a Hono app (use `fetch`, or `app.request` in tests) and its lifecycle. */
export interface EventloomServer {
  readonly app: Hono<ApiEnv>;
  /** Hands `env` on to Hono: the Node adapter passes the socket there (the client address). */
  readonly fetch: (request: Request, env?: unknown) => Response | Promise<Response>;
  readonly registry: SubscriptionRegistry;
  readonly metrics: Metrics;
  /** Starts background work (the event-rate tracker). */
  start(): Promise<void>;
  /** Ends live streams and background work. The app and its store stay open. */
  close(): Promise<void>;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The reference app's HTTP API on Hono: the source material's routes, the shop, sessions,
 * the generic store API (with server-sent events), /health, /metrics and an OpenAPI 3.1
 * document at /api/openapi.json.
 *
 * @example
 * const server = createServer({ app, readModels, sessionDocuments: store.documents.async, sessionSecret });
 * await server.start();
 * const res = await server.app.request('/api/v1/info');
 */
export function createServer(options: ServerOptions): EventloomServer {
  const { app: referenceApp } = options;
  const store = referenceApp.store;
  const log = options.logger ?? noopLogger;
  const trustProxy = options.trustProxy ?? false;
  const secure = options.secureCookies ?? false;
  const ttlMs = options.sessionTtlMs ?? 7 * 24 * 3600_000;
  const cookie: CookieSettings = {
    name: secure ? '__Host-eventloom_session' : 'eventloom_session',
    secure,
    maxAgeSeconds: Math.floor(ttlMs / 1000),
  };
  const metrics = options.metrics ?? createMetrics();
  const registry = options.registry ?? createSubscriptionRegistry();
  if (options.registry === undefined)
    registry.add('projection', () => referenceApp.subscriptions());
  const sessions = createSessionStore({
    documents: options.sessionDocuments,
    secret: options.sessionSecret,
    ttlMs,
  });
  const limiter = createLoginRateLimiter(options.loginRateLimit);
  const live = createLiveEvents({
    store,
    maxClients: options.maxLiveClients,
    onError: (error) => log.warn({ error }, 'live event stream failed'),
  });
  const rate = createEventRateTracker(store);
  const maxBodyBytes = options.maxBodyBytes ?? 64 * 1024;

  const app = new Hono<ApiEnv>();

  app.use('*', httpTracing(metrics));
  app.use('*', async (c, next) => {
    const started = performance.now();
    const incoming = c.req.header('x-request-id');
    c.set(
      'requestId',
      incoming !== undefined && REQUEST_ID.test(incoming) ? incoming : newEventId(),
    );
    await next();
    c.res.headers.set('x-request-id', c.get('requestId'));
    // API answers carry people's data (accounts, orders, raw events): no shared or browser
    // cache may keep them, unless a route says otherwise. `no-cache` (Hono's default for
    // event streams) still lets a cache store them.
    const caching = c.res.headers.get('cache-control');
    if (c.req.path.startsWith('/api/') && (caching === null || caching === 'no-cache')) {
      c.res.headers.set('cache-control', 'no-store');
    }
    const seconds = (performance.now() - started) / 1000;
    const route = (c.get('route') as string | undefined) ?? 'unmatched';
    metrics.observeRequest(c.req.method, route, c.res.status, seconds);
    // The route, not the path: paths name people (`/api/v1/users/ada`), and a log line is a
    // copy that erasing the person cannot reach. The request id ties it to the response.
    log.debug(
      {
        requestId: c.get('requestId'),
        method: c.req.method,
        route,
        status: c.res.status,
        ms: Math.round(seconds * 10_000) / 10,
      },
      'request',
    );
  });
  app.use('*', hostGuard(options.allowedHosts ?? []));
  app.use(
    '*',
    secureHeaders({
      // The UI's own scripts and styles only; the API answers JSON.
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        styleSrc: ["'self'", "'unsafe-inline'"],
        frameAncestors: ["'none'"],
      },
      strictTransportSecurity: secure ? 'max-age=15552000; includeSubDomains' : false,
      crossOriginResourcePolicy: 'same-origin',
    }),
  );
  app.use(
    '/api/*',
    requestBodyLimit(maxBodyBytes, () => {
      throw new HttpProblem('payload-too-large', {
        detail: `The request body is larger than ${maxBodyBytes} bytes`,
      });
    }),
  );
  app.use('/api/*', csrfGuard({ allowedOrigins: options.allowedOrigins ?? [], trustProxy }));

  app.onError((error, c) => {
    const problem = toProblem(error);
    if (problem.status >= 500) {
      log.error(
        {
          requestId: c.get('requestId'),
          method: c.req.method,
          route: c.get('route') ?? 'unmatched',
          error: problem.init.cause ?? error,
          stack: error instanceof Error ? error.stack : undefined,
        },
        'request failed',
      );
    }
    return problemResponse(c, problem);
  });

  const authenticator = createAuthenticator({
    accounts: referenceApp.accounts,
    sessions,
    limiter,
    cookieName: cookie.name,
    trustProxy,
    secret: options.sessionSecret,
  });
  const router = createApiRouter(app, {
    authenticator,
    explorerAccess: options.explorerAccess ?? 'admin',
    idempotency: createIdempotencyRecords(options.sessionDocuments),
  });
  const deps: RouteDeps = {
    router,
    app: referenceApp,
    sessions,
    limiter,
    cookie,
    trustProxy,
    readYourWritesMs: options.readYourWritesMs ?? 2000,
    forgetCredentials: (userId) => authenticator.forgetUser(userId),
  };
  registerOpsRoutes({
    router,
    store,
    readModels: options.readModels,
    storeKind: options.storeKind ?? 'custom',
    readModelKind: options.readModelKind ?? 'custom',
    metrics,
    registry,
    liveClients: () => live.clients,
    version: options.version ?? '0.0.0',
    startedAt: Date.now(),
  });
  registerAccountRoutes(deps);
  registerSessionRoutes(deps);
  registerFeedRoutes(deps);
  registerShopRoutes(deps);
  registerShopLiveRoutes({ router, app: referenceApp, live });
  registerStoreRoutes({ router, store, app: referenceApp, live, registry, rate });
  registerWorkflowRoutes({
    router,
    store,
    readModels: options.readModels.documents,
    workflows: options.workflows ?? [],
  });
  if (options.devMailbox !== undefined) registerDevMailRoutes(router, options.devMailbox);
  serveWeb(app, options.webRoot);

  const patterns = router.specs.map((spec) => ({
    method: spec.method.toUpperCase(),
    regex: new RegExp(`^${spec.path.replace(/:[A-Za-z_]+/g, '[^/]+')}/?$`),
  }));
  app.notFound((c) => {
    const allowed = patterns.filter((p) => p.regex.test(c.req.path)).map((p) => p.method);
    if (allowed.length > 0) {
      const allow = [
        ...new Set(allowed.flatMap((m) => (m === 'GET' ? ['GET', 'HEAD'] : [m]))),
      ].join(', ');
      return problemResponse(
        c,
        new HttpProblem('method-not-allowed', {
          detail: `${c.req.method} is not supported here; use ${allow}`,
          headers: { allow },
        }),
      );
    }
    return problemResponse(
      c,
      new HttpProblem('not-found', {
        detail: `There is nothing at ${c.req.path}; the API is described at /api/openapi.json`,
      }),
    );
  });

  return {
    app,
    fetch: (request, env) => app.fetch(request, env),
    registry,
    metrics,
    start: () => rate.start(),
    async close() {
      await live.closeAll();
      await rate.stop();
    },
  };
}
