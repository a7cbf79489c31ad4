import { type Actor, isEntityId, redactForViewer, type ReferenceApp } from '../app/index.js';
import type { RecordedEvent } from '../core/index.js';
import { streamCategory } from '../core/streamCategory.js';
import { ShopLiveQuery } from './apiSchemas.js';
import type { ApiRouter } from './apiRouter.js';
import { type LiveEvents, resumePosition } from './liveEvents.js';

export interface ShopLiveRouteDeps {
  router: ApiRouter;
  app: ReferenceApp;
  live: LiveEvents;
}

/**
 * What a shopper may follow of the log: every product's events (stock changes), and the events
 * of the orders they may see (their own; an admin's: all), personal fields redacted as in the
 * explorer. The shop view refreshes its products and orders when one arrives.
 */
function shopperView(app: ReferenceApp, actor: Actor | undefined) {
  // Whose an order is never changes: asked once per order and connection.
  const visible = new Map<string, Promise<boolean>>();
  const mayFollowOrder = (orderId: string): Promise<boolean> => {
    if (actor === undefined || !isEntityId(orderId)) return Promise.resolve(false);
    let known = visible.get(orderId);
    if (known === undefined) {
      known = app.shop.getOrder(actor, orderId).then((order) => order !== undefined);
      visible.set(orderId, known);
    }
    return known;
  };
  return async (event: RecordedEvent): Promise<RecordedEvent | undefined> => {
    const category = streamCategory(event.streamId);
    if (category === 'product') return redactForViewer(event, actor);
    if (category !== 'order') return undefined;
    const orderId = event.streamId.slice('order-'.length);
    return (await mayFollowOrder(orderId)) ? redactForViewer(event, actor) : undefined;
  };
}

/** `GET /api/shop/live`: the shop's live feed (server-sent events), for everyone. */
export function registerShopLiveRoutes({ router, app, live }: ShopLiveRouteDeps): void {
  router.route(
    {
      method: 'get',
      path: '/api/shop/live',
      operationId: 'shopLiveEvents',
      summary: 'Live product and order events for the caller (server-sent events)',
      description:
        'Like /api/events/live, for shoppers: every product\u2019s events (stock changes) and the events of the caller\u2019s own orders (an admin\u2019s: every order). A `ready` event first, then one message per event; reconnect with `Last-Event-ID` to resume.',
      tags: ['shop'],
      auth: 'optional',
      query: ShopLiveQuery,
      headers: [{ name: 'Last-Event-ID', description: 'Resume after this position' }],
      responses: {
        200: { description: 'An event stream', contentType: 'text/event-stream' },
        503: { description: 'Too many live streams are open' },
      },
    },
    async (c, { query, actor }) =>
      live.handle(c, resumePosition(c, query.from), undefined, shopperView(app, actor)),
  );
}
