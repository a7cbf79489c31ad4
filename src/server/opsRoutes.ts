import type { ProjectionTarget, EventStore } from '../core/index.js';
import { withTimeout } from '../core/async.js';
import { ApiInfo, Health } from './apiSchemas.js';
import type { ApiRouter } from './apiRouter.js';
import type { Gauge, Metrics } from './metrics.js';
import { openApiDocument } from './openApiDocument.js';
import type { SubscriptionRegistry } from './subscriptionRegistry.js';

export interface OpsRouteDeps {
  router: ApiRouter;
  store: EventStore;
  readModels: ProjectionTarget;
  storeKind: string;
  readModelKind: string;
  metrics: Metrics;
  registry: SubscriptionRegistry;
  liveClients: () => number;
  version: string;
  startedAt: number;
}

const BUILD_TIME = new Date().toISOString();

/** Resolves with the check's outcome, or 'timed out' after `ms`. */
async function check(
  fn: () => Promise<unknown>,
  ms = 2000,
): Promise<{ status: 'ok' | 'unavailable'; detail?: string }> {
  try {
    await withTimeout(fn(), ms, () => {
      throw new Error(`no answer within ${ms} ms`);
    });
    return { status: 'ok' };
  } catch (error) {
    return {
      status: 'unavailable',
      detail: error instanceof Error ? error.message : String(error),
    };
  }
}

/** `/api/v1/info`, `/health`, `/metrics` and `/api/openapi.json`. */
export function registerOpsRoutes(deps: OpsRouteDeps): void {
  const { router, store, readModels, metrics, registry } = deps;
  let document: Record<string, unknown> | undefined;

  router.route(
    {
      method: 'get',
      path: '/api/v1/info',
      operationId: 'apiInfo',
      summary: 'API versions',
      tags: ['operations'],
      auth: 'none',
      responses: { 200: { description: 'The versions', schema: ApiInfo } },
    },
    (c) =>
      c.json({
        api_version: [
          {
            version: 'v1',
            links: '/api/v1/users',
            methods: 'get, post, put, delete',
            buildtime: BUILD_TIME,
          },
          { version: 'v2', links: '/api/v2/tweets', methods: 'get, post', buildtime: BUILD_TIME },
          {
            version: 'shop',
            links: '/api/shop/products',
            methods: 'get, post',
            buildtime: BUILD_TIME,
          },
          { version: 'store', links: '/api/events', methods: 'get', buildtime: BUILD_TIME },
        ],
      }),
  );

  router.route(
    {
      method: 'get',
      path: '/health',
      operationId: 'health',
      summary: 'Health: the event store and the read models answer',
      tags: ['operations'],
      auth: 'none',
      responses: {
        200: { description: 'Healthy', schema: Health },
        503: { description: 'A dependency does not answer', schema: Health },
      },
    },
    async (c) => {
      let head: number | undefined;
      const [storeCheck, readModelCheck] = await Promise.all([
        check(async () => {
          head = await store.headPosition();
        }),
        check(() => readModels.loadCheckpoint('app-users')),
      ]);
      const ok = storeCheck.status === 'ok' && readModelCheck.status === 'ok';
      c.header('cache-control', 'no-store');
      return c.json(
        {
          status: ok ? 'ok' : 'unavailable',
          store: deps.storeKind,
          readModels: deps.readModelKind,
          checks: { store: storeCheck, readModels: readModelCheck },
          ...(head !== undefined ? { head } : {}),
          uptimeSeconds: Math.round((Date.now() - deps.startedAt) / 1000),
        },
        ok ? 200 : 503,
      );
    },
  );

  router.route(
    {
      method: 'get',
      path: '/metrics',
      operationId: 'metrics',
      summary: 'Prometheus metrics',
      tags: ['operations'],
      auth: 'none',
      responses: {
        200: { description: 'Text exposition format 0.0.4', contentType: 'text/plain' },
      },
    },
    async (c) => {
      const head = await store.headPosition().catch(() => undefined);
      const gauges: Gauge[] = [
        {
          name: 'eventloom_live_clients',
          help: 'Open server-sent event streams.',
          labelNames: [],
          samples: [{ labels: {}, value: deps.liveClients() }],
        },
      ];
      if (head !== undefined) {
        const report = registry.report(head);
        gauges.push(
          {
            name: 'eventloom_store_head_position',
            help: 'Highest global position in the store.',
            labelNames: [],
            samples: [{ labels: {}, value: head }],
          },
          {
            name: 'eventloom_subscription_lag_events',
            help: 'Events between a subscription\u2019s position and the head.',
            labelNames: ['subscription', 'kind'],
            samples: report.map((s) => ({
              labels: { subscription: s.name, kind: s.kind },
              value: s.lag,
            })),
          },
          {
            name: 'eventloom_subscription_position',
            help: 'Last position a subscription handled.',
            labelNames: ['subscription', 'kind'],
            samples: report.map((s) => ({
              labels: { subscription: s.name, kind: s.kind },
              value: s.position,
            })),
          },
          {
            name: 'eventloom_subscription_parked_events',
            help: 'Events a subscription parked after its handler kept failing.',
            labelNames: ['subscription', 'kind'],
            samples: report.map((s) => ({
              labels: { subscription: s.name, kind: s.kind },
              value: s.parked,
            })),
          },
        );
      }
      return c.body(await metrics.render(gauges), 200, {
        'content-type': metrics.registry.contentType,
      });
    },
  );

  router.route(
    {
      method: 'get',
      path: '/api/openapi.json',
      operationId: 'openApi',
      summary: 'This API\u2019s OpenAPI 3.1 document',
      tags: ['operations'],
      auth: 'none',
      responses: { 200: { description: 'The document' } },
    },
    (c) => {
      document ??= openApiDocument(router.specs, deps.version);
      return c.json(document);
    },
  );
}
