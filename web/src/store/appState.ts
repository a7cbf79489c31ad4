import type {
  AggregateState,
  DevEmail,
  EventRate,
  Order,
  Problem,
  Product,
  SessionUser,
  StoredEvent,
  StreamPage,
  SubscriptionList,
  Tweet,
  User,
  WorkflowInstance,
  WorkflowInstanceList,
} from '../api/types.ts';
import type { Route } from '../lib/routes.ts';

/** Forms whose submission state (pending, the server's problem) lives in the store. */
export type FormId =
  | 'signup'
  | 'login'
  | 'logout'
  | 'profile'
  | 'password'
  | 'tweet'
  | 'product'
  | 'order'
  | `pay:${string}`;

export interface FormState {
  pending: boolean;
  problem?: Problem;
  /** Bumped on success: a form clears its inputs when it changes. */
  succeeded: number;
}

/** Data fetched from the API: what is shown, and whether it is being (re)loaded. */
export interface Remote<T> {
  status: 'idle' | 'loading' | 'ready' | 'failed';
  data?: T;
  problem?: Problem;
}

export type LiveStatus = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

export const LIVE_EVENTS_KEPT = 200;

export interface AppState {
  route: Route;
  /** The clock relative times are shown against; ticks while the page is open. */
  now: number;
  session: {
    status: 'unknown' | 'anonymous' | 'authenticated';
    user?: SessionUser;
    csrfToken?: string;
  };
  notice?: { id: number; text: string };
  forms: Partial<Record<FormId, FormState>>;
  feed: Remote<Tweet[]> & { username?: string };
  profile: Remote<User> & { etag?: string };
  shop: {
    products: Remote<Product[]>;
    orders: Remote<Order[]>;
    /** Product id → quantity. */
    cart: Record<string, number>;
    /** The shop's live feed (`/api/shop/live`): products and orders refresh when it speaks. */
    live: LiveStatus;
  };
  /** The signed-in user's emails (development servers only; `available: false` elsewhere). */
  mailbox: Remote<DevEmail[]> & { available?: boolean };
  explorer: {
    live: {
      status: LiveStatus;
      /** Newest first, at most LIVE_EVENTS_KEPT. */
      events: StoredEvent[];
      /** The last position received: the next connection resumes after it. */
      lastPosition?: number;
      problem?: Problem;
    };
    subscriptions: Remote<SubscriptionList>;
    rate: Remote<EventRate>;
    stream: Remote<StreamPage> & { streamId?: string };
    state: Remote<AggregateState> & { streamId?: string; version?: number };
    workflows: Remote<WorkflowInstanceList>;
    /** `key`: `<workflow>/<instanceId>` of the instance shown. */
    workflow: Remote<WorkflowInstance> & { key?: string };
  };
}

export type Action =
  | { type: 'route/changed'; route: Route }
  | { type: 'clock/ticked'; now: number }
  | { type: 'session/loaded'; user: SessionUser | undefined; csrfToken: string | undefined }
  | { type: 'notice/shown'; text: string }
  | { type: 'notice/dismissed' }
  | { type: 'form/submitted'; form: FormId }
  | { type: 'form/succeeded'; form: FormId }
  | { type: 'form/failed'; form: FormId; problem: Problem }
  | { type: 'form/cleared'; form: FormId }
  | { type: 'feed/loading'; username: string | undefined }
  | { type: 'feed/loaded'; username: string | undefined; tweets: Tweet[] }
  | { type: 'feed/failed'; username: string | undefined; problem: Problem }
  | { type: 'profile/loading' }
  | { type: 'profile/loaded'; user: User; etag: string | undefined }
  | { type: 'profile/failed'; problem: Problem }
  | { type: 'products/loading' }
  | { type: 'products/loaded'; products: Product[] }
  | { type: 'products/failed'; problem: Problem }
  | { type: 'orders/loading' }
  | { type: 'orders/loaded'; orders: Order[] }
  | { type: 'orders/failed'; problem: Problem }
  | { type: 'order/updated'; order: Order }
  | { type: 'cart/set'; productId: string; quantity: number }
  | { type: 'cart/cleared' }
  | { type: 'live/status'; status: LiveStatus; problem?: Problem }
  | { type: 'live/received'; events: StoredEvent[] }
  | { type: 'subscriptions/loaded'; list: SubscriptionList }
  | { type: 'subscriptions/failed'; problem: Problem }
  | { type: 'rate/loaded'; rate: EventRate }
  | { type: 'rate/failed'; problem: Problem }
  | { type: 'stream/loading'; streamId: string }
  | { type: 'stream/loaded'; stream: StreamPage }
  | { type: 'stream/failed'; streamId: string; problem: Problem }
  | { type: 'state/loading'; streamId: string; version: number | undefined }
  | { type: 'state/loaded'; state: AggregateState }
  | { type: 'state/failed'; streamId: string; problem: Problem }
  | { type: 'shopLive/status'; status: LiveStatus }
  | { type: 'workflows/loaded'; list: WorkflowInstanceList }
  | { type: 'workflows/failed'; problem: Problem }
  | { type: 'workflow/loading'; key: string }
  | { type: 'workflow/loaded'; key: string; instance: WorkflowInstance }
  | { type: 'workflow/failed'; key: string; problem: Problem }
  | { type: 'mailbox/loading' }
  | { type: 'mailbox/loaded'; emails: DevEmail[] }
  | { type: 'mailbox/unavailable' }
  | { type: 'mailbox/failed'; problem: Problem };

export function initialState(route: Route, now: number): AppState {
  return {
    route,
    now,
    session: { status: 'unknown' },
    forms: {},
    feed: { status: 'idle' },
    profile: { status: 'idle' },
    shop: { products: { status: 'idle' }, orders: { status: 'idle' }, cart: {}, live: 'idle' },
    mailbox: { status: 'idle' },
    explorer: {
      live: { status: 'idle', events: [] },
      subscriptions: { status: 'idle' },
      rate: { status: 'idle' },
      stream: { status: 'idle' },
      state: { status: 'idle' },
      workflows: { status: 'idle' },
      workflow: { status: 'idle' },
    },
  };
}

const loading = <T>(remote: Remote<T>): Remote<T> => ({ ...remote, status: 'loading' });
const ready = <T>(data: T): Remote<T> => ({ status: 'ready', data });
const failed = <T>(remote: Remote<T>, problem: Problem): Remote<T> => ({
  ...remote,
  status: 'failed',
  problem,
});

/** Merges newly received events (newest first), dropping ones already there (at-least-once delivery). */
export function mergeEvents(
  kept: readonly StoredEvent[],
  received: readonly StoredEvent[],
  limit = LIVE_EVENTS_KEPT,
): StoredEvent[] {
  const seen = new Set(kept.map((e) => e.position));
  const fresh = received.filter((e) => {
    if (seen.has(e.position)) return false;
    seen.add(e.position);
    return true;
  });
  if (fresh.length === 0) return kept as StoredEvent[];
  return [...fresh, ...kept].sort((a, b) => b.position - a.position).slice(0, limit);
}

function withForm(state: AppState, form: FormId, next: Partial<FormState>): AppState {
  const before = state.forms[form] ?? { pending: false, succeeded: 0 };
  return { ...state, forms: { ...state.forms, [form]: { ...before, ...next } } };
}

type Explorer = AppState['explorer'];
const withExplorer = (state: AppState, change: Partial<Explorer>): AppState => ({
  ...state,
  explorer: { ...state.explorer, ...change },
});
type Shop = AppState['shop'];
const withShop = (state: AppState, change: Partial<Shop>): AppState => ({
  ...state,
  shop: { ...state.shop, ...change },
});

export function reducer(state: AppState, action: Action): AppState {
  switch (action.type) {
    case 'route/changed':
      return { ...state, route: action.route };
    case 'clock/ticked':
      return { ...state, now: action.now };
    case 'session/loaded': {
      if (action.user === undefined) {
        // Whatever belonged to the user who was logged in is not shown to the next one.
        return {
          ...state,
          session: { status: 'anonymous' },
          profile: { status: 'idle' },
          shop: { ...state.shop, orders: { status: 'idle' }, cart: {} },
          mailbox: { status: 'idle' },
        };
      }
      const sameUser = state.session.user?.id === action.user.id;
      return {
        ...state,
        session: { status: 'authenticated', user: action.user, csrfToken: action.csrfToken },
        ...(sameUser
          ? {}
          : {
              profile: { status: 'idle' },
              shop: { ...state.shop, orders: { status: 'idle' }, cart: {} },
              mailbox: { status: 'idle' },
            }),
      };
    }
    case 'notice/shown':
      return { ...state, notice: { id: (state.notice?.id ?? 0) + 1, text: action.text } };
    case 'notice/dismissed':
      return { ...state, notice: undefined };

    case 'form/submitted':
      return withForm(state, action.form, { pending: true, problem: undefined });
    case 'form/succeeded':
      return withForm(state, action.form, {
        pending: false,
        problem: undefined,
        succeeded: (state.forms[action.form]?.succeeded ?? 0) + 1,
      });
    case 'form/failed':
      return withForm(state, action.form, { pending: false, problem: action.problem });
    case 'form/cleared':
      return withForm(state, action.form, { pending: false, problem: undefined });

    case 'feed/loading':
      return {
        ...state,
        feed:
          state.feed.username === action.username
            ? { ...loading(state.feed), username: action.username }
            : { status: 'loading', username: action.username },
      };
    case 'feed/loaded':
      if (state.feed.username !== action.username) return state; // an answer for another page
      return { ...state, feed: { ...ready(action.tweets), username: action.username } };
    case 'feed/failed':
      if (state.feed.username !== action.username) return state;
      return {
        ...state,
        feed: { ...failed(state.feed, action.problem), username: action.username },
      };

    case 'profile/loading':
      return { ...state, profile: loading(state.profile) };
    case 'profile/loaded':
      return { ...state, profile: { ...ready(action.user), etag: action.etag } };
    case 'profile/failed':
      return { ...state, profile: failed(state.profile, action.problem) };

    case 'products/loading':
      return withShop(state, { products: loading(state.shop.products) });
    case 'products/loaded':
      return withShop(state, { products: ready(action.products) });
    case 'products/failed':
      return withShop(state, { products: failed(state.shop.products, action.problem) });
    case 'orders/loading':
      return withShop(state, { orders: loading(state.shop.orders) });
    case 'orders/loaded':
      return withShop(state, { orders: ready(action.orders) });
    case 'orders/failed':
      return withShop(state, { orders: failed(state.shop.orders, action.problem) });
    case 'order/updated': {
      const orders = state.shop.orders.data ?? [];
      const exists = orders.some((o) => o.id === action.order.id);
      return withShop(state, {
        orders: ready(
          exists
            ? orders.map((o) => (o.id === action.order.id ? action.order : o))
            : [action.order, ...orders],
        ),
      });
    }
    case 'cart/set': {
      const cart = { ...state.shop.cart };
      if (action.quantity <= 0) delete cart[action.productId];
      else cart[action.productId] = Math.min(100, Math.floor(action.quantity));
      return withShop(state, { cart });
    }
    case 'cart/cleared':
      return withShop(state, { cart: {} });

    case 'live/status':
      return withExplorer(state, {
        live: { ...state.explorer.live, status: action.status, problem: action.problem },
      });
    case 'live/received': {
      const { live } = state.explorer;
      const events = mergeEvents(live.events, action.events);
      const last = Math.max(live.lastPosition ?? -1, ...action.events.map((e) => e.position));
      if (events === live.events && last === (live.lastPosition ?? -1)) return state;
      return withExplorer(state, {
        live: { ...live, events, lastPosition: last < 0 ? undefined : last },
      });
    }
    case 'subscriptions/loaded':
      return withExplorer(state, { subscriptions: ready(action.list) });
    case 'subscriptions/failed':
      return withExplorer(state, {
        subscriptions: failed(state.explorer.subscriptions, action.problem),
      });
    case 'rate/loaded':
      return withExplorer(state, { rate: ready(action.rate) });
    case 'rate/failed':
      return withExplorer(state, { rate: failed(state.explorer.rate, action.problem) });
    case 'stream/loading': {
      const { stream } = state.explorer;
      return withExplorer(state, {
        stream:
          stream.streamId === action.streamId
            ? { ...loading(stream), streamId: action.streamId }
            : { status: 'loading', streamId: action.streamId },
      });
    }
    case 'stream/loaded':
      if (state.explorer.stream.streamId !== action.stream.streamId) return state;
      return withExplorer(state, {
        stream: { ...ready(action.stream), streamId: action.stream.streamId },
      });
    case 'stream/failed':
      if (state.explorer.stream.streamId !== action.streamId) return state;
      return withExplorer(state, {
        stream: { status: 'failed', problem: action.problem, streamId: action.streamId },
      });
    case 'state/loading': {
      const current = state.explorer.state;
      return withExplorer(state, {
        state:
          current.streamId === action.streamId
            ? { ...loading(current), streamId: action.streamId, version: action.version }
            : { status: 'loading', streamId: action.streamId, version: action.version },
      });
    }
    case 'state/loaded': {
      const current = state.explorer.state;
      // Only the answer for the version asked for last: a slider sends many requests.
      if (
        current.streamId !== action.state.streamId ||
        (current.version !== undefined && current.version !== action.state.version)
      ) {
        return state;
      }
      return withExplorer(state, {
        state: {
          ...ready(action.state),
          streamId: action.state.streamId,
          version: current.version,
        },
      });
    }
    case 'state/failed':
      if (state.explorer.state.streamId !== action.streamId) return state;
      return withExplorer(state, {
        state: { ...state.explorer.state, status: 'failed', problem: action.problem },
      });

    case 'shopLive/status':
      return withShop(state, { live: action.status });
    case 'workflows/loaded':
      return withExplorer(state, { workflows: ready(action.list) });
    case 'workflows/failed':
      return withExplorer(state, { workflows: failed(state.explorer.workflows, action.problem) });
    case 'workflow/loading': {
      const current = state.explorer.workflow;
      return withExplorer(state, {
        workflow:
          current.key === action.key
            ? { ...loading(current), key: action.key }
            : { status: 'loading', key: action.key },
      });
    }
    case 'workflow/loaded':
      // An answer for an instance no longer shown changes nothing.
      if (state.explorer.workflow.key !== action.key) return state;
      return withExplorer(state, { workflow: { ...ready(action.instance), key: action.key } });
    case 'workflow/failed':
      if (state.explorer.workflow.key !== action.key) return state;
      return withExplorer(state, {
        workflow: { ...failed(state.explorer.workflow, action.problem), key: action.key },
      });
    case 'mailbox/loading':
      return {
        ...state,
        mailbox: { ...loading(state.mailbox), available: state.mailbox.available },
      };
    case 'mailbox/loaded':
      return { ...state, mailbox: { ...ready(action.emails), available: true } };
    case 'mailbox/unavailable':
      return { ...state, mailbox: { status: 'ready', data: [], available: false } };
    case 'mailbox/failed':
      return { ...state, mailbox: { ...failed(state.mailbox, action.problem) } };
  }
}
