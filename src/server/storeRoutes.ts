import {
  aggregateStateAt,
  APP_CATEGORIES,
  redactForViewer,
  type ReferenceApp,
  storeSeenBy,
} from '../app/index.js';
import type { EventStore } from '../core/index.js';
import {
  AggregateState,
  EventPage,
  EventRate,
  EventsQuery,
  LiveQuery,
  RateQuery,
  StateQuery,
  Stream,
  StreamParams,
  StreamQuery,
  SubscriptionList,
} from './apiSchemas.js';
import type { ApiRouter } from './apiRouter.js';
import type { EventRateTracker } from './eventRate.js';
import { etagOf } from './httpHelpers.js';
import { type LiveEvents, resumePosition } from './liveEvents.js';
import { HttpProblem } from './problem.js';
import type { SubscriptionRegistry } from './subscriptionRegistry.js';
import { toApiEvent } from './wireFormat.js';

export interface StoreRouteDeps {
  router: ApiRouter;
  store: EventStore;
  app: ReferenceApp;
  live: LiveEvents;
  registry: SubscriptionRegistry;
  rate: EventRateTracker;
}

const TAGS = ['event store'];

/** The generic store API the event explorer uses: the log, streams, time travel, lag, rate. */
export function registerStoreRoutes({ router, store, live, registry, rate }: StoreRouteDeps): void {
  router.route(
    {
      method: 'get',
      path: '/api/events',
      operationId: 'readEvents',
      summary: 'Events in global order',
      tags: TAGS,
      auth: 'explorer',
      query: EventsQuery,
      responses: { 200: { description: 'A page of events', schema: EventPage } },
    },
    async (c, { query, actor }) => {
      const from = query.from ?? 0;
      const [events, head] = await Promise.all([
        store.readAll({ from, maxCount: query.limit ?? 100 }),
        store.headPosition(),
      ]);
      const last = events[events.length - 1];
      // No index on metadata: a correlation is found by filtering each page read, so a
      // page may hold none and the client pages on to the head.
      const shown =
        query.correlation_id === undefined
          ? events
          : events.filter((e) => e.metadata?.correlationId === query.correlation_id);
      return c.json({
        events: shown.map((e) => toApiEvent(redactForViewer(e, actor))),
        nextFrom: last === undefined ? from : last.position + 1,
        head,
      });
    },
  );

  router.route(
    {
      method: 'get',
      path: '/api/events/live',
      operationId: 'liveEvents',
      summary: 'Live tail of events (server-sent events)',
      description:
        'A `ready` event first (`{ head, from }`), then one message per event: `id` is its position, `data` the event JSON. Reconnect with `Last-Event-ID` to resume after the last one received.',
      tags: TAGS,
      auth: 'explorer',
      query: LiveQuery,
      headers: [{ name: 'Last-Event-ID', description: 'Resume after this position' }],
      responses: {
        200: { description: 'An event stream', contentType: 'text/event-stream' },
        503: { description: 'Too many live streams are open' },
      },
    },
    async (c, { query, actor }) => {
      const from = resumePosition(c, query.from);
      const types = query.types
        ?.split(',')
        .map((t) => t.trim())
        .filter((t) => t !== '');
      return live.handle(
        c,
        from,
        types !== undefined && types.length > 0 ? types : undefined,
        (event) => redactForViewer(event, actor),
      );
    },
  );

  router.route(
    {
      method: 'get',
      path: '/api/streams/:id',
      operationId: 'readStream',
      summary: 'One stream\u2019s events',
      tags: TAGS,
      auth: 'explorer',
      params: StreamParams,
      query: StreamQuery,
      responses: {
        200: { description: 'The stream', schema: Stream, headers: { ETag: 'Its version' } },
        404: { description: 'The stream has never had an event' },
      },
    },
    async (c, { params, query, actor }) => {
      const info = await store.streamInfo(params.id);
      if (info.version === 0) {
        throw new HttpProblem('not-found', { detail: `Stream ${params.id} has no events` });
      }
      const events = await store.readStream(params.id, {
        maxCount: query.limit ?? 1000,
        ...(query.from !== undefined ? { from: query.from } : {}),
        ...(query.direction !== undefined ? { direction: query.direction } : {}),
      });
      return c.json(
        { ...info, events: events.map((e) => toApiEvent(redactForViewer(e, actor))) },
        200,
        {
          etag: etagOf(info.version),
        },
      );
    },
  );

  router.route(
    {
      method: 'get',
      path: '/api/streams/:id/state',
      operationId: 'aggregateState',
      summary: 'An aggregate\u2019s state at a version (time travel)',
      description: `For the app's streams (categories ${APP_CATEGORIES.join(', ')}): the stream folded with its aggregate's evolve up to \`version\`.`,
      tags: TAGS,
      auth: 'explorer',
      params: StreamParams,
      query: StateQuery,
      responses: {
        200: { description: 'The state', schema: AggregateState },
        404: { description: 'Not an app stream, or no such stream' },
      },
    },
    async (c, { params, query, actor }) => {
      // Folded from the events as this caller may see them: no one else's personal data.
      const result = await aggregateStateAt(storeSeenBy(store, actor), params.id, query.version);
      if (result === undefined) {
        throw new HttpProblem('not-found', {
          detail: `Stream ${params.id} is not one of the app's aggregates (categories: ${APP_CATEGORIES.join(', ')})`,
        });
      }
      if (result.currentVersion === 0) {
        throw new HttpProblem('not-found', { detail: `Stream ${params.id} has no events` });
      }
      if (query.version !== undefined && query.version > result.currentVersion) {
        throw new HttpProblem('validation-failed', {
          detail: `Stream ${params.id} is at version ${result.currentVersion}; ask for a version up to that`,
          errors: [
            {
              pointer: 'query:version',
              field: 'query.version',
              message: `must be at most ${result.currentVersion}`,
            },
          ],
        });
      }
      return c.json(result);
    },
  );

  router.route(
    {
      method: 'get',
      path: '/api/subscriptions',
      operationId: 'listSubscriptions',
      summary: 'Projections, publishers and subscriptions with their lag',
      tags: TAGS,
      auth: 'explorer',
      responses: { 200: { description: 'Their status', schema: SubscriptionList } },
    },
    async (c) => {
      const head = await store.headPosition();
      return c.json({ head, subscriptions: registry.report(head) });
    },
  );

  router.route(
    {
      method: 'get',
      path: '/api/stats/event-rate',
      operationId: 'eventRate',
      summary: 'Events per time bucket (for a rate chart)',
      tags: TAGS,
      auth: 'explorer',
      query: RateQuery,
      responses: { 200: { description: 'The series', schema: EventRate } },
    },
    async (c, { query }) => c.json(rate.series(query.window ?? 300, query.bucket ?? 5)),
  );
}
