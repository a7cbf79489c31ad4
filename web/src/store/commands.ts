import { toProblem } from '../api/apiClient.ts';
import type { EventloomApi, NewProduct, NewUser, UserChanges } from '../api/eventloomApi.ts';
import type { Order, PaymentMethod, SessionInfo } from '../api/types.ts';
import { openLiveTail, type LiveTail } from '../lib/liveTail.ts';
import { parseRoute, type Route, routePath } from '../lib/routes.ts';
import { staleShopData } from '../lib/shopLive.ts';
import type { Action, AppState, FormId } from './appState.ts';
import type { Store } from './createStore.ts';

/** Where the app changes the page's address (the browser's history in the UI). */
export interface Navigator {
  push(path: string): void;
  replace(path: string): void;
}

/** Recent events the explorer shows before the live ones. */
const RECENT_EVENTS = 50;

/**
 * The app's side effects: each command calls the API and dispatches what happened. Views
 * call commands; only the reducer changes the state.
 */
export function createCommands(
  store: Store<AppState, Action>,
  api: EventloomApi,
  navigator: Navigator,
) {
  const { dispatch, getState } = store;
  let liveTail: LiveTail | undefined;
  let liveUsers = 0;
  let liveStarting = false;
  let shopLive: LiveTail | undefined;

  /** Runs a form's request, recording pending/problem/success for the form. */
  async function submit<T>(form: FormId, run: () => Promise<T>): Promise<T | undefined> {
    dispatch({ type: 'form/submitted', form });
    try {
      const result = await run();
      dispatch({ type: 'form/succeeded', form });
      return result;
    } catch (error) {
      dispatch({ type: 'form/failed', form, problem: toProblem(error) });
      return undefined;
    }
  }

  function sessionLoaded(info: SessionInfo): void {
    dispatch({
      type: 'session/loaded',
      user: info.authenticated ? info.user : undefined,
      csrfToken: info.csrf_token,
    });
  }

  const commands = {
    navigate(route: Route, options: { replace?: boolean } = {}): void {
      const path = routePath(route);
      if (options.replace) navigator.replace(path);
      else navigator.push(path);
      dispatch({ type: 'route/changed', route });
    },

    /** The browser moved (back/forward): show the page of its address. */
    locationChanged(pathname: string, search: string): void {
      dispatch({ type: 'route/changed', route: parseRoute(pathname, search) });
    },

    tick(): void {
      dispatch({ type: 'clock/ticked', now: Date.now() });
    },

    dismissNotice(): void {
      dispatch({ type: 'notice/dismissed' });
    },

    clearForm(form: FormId): void {
      dispatch({ type: 'form/cleared', form });
    },

    async loadSession(): Promise<string | undefined> {
      try {
        const { data } = await api.session();
        sessionLoaded(data);
        return data.csrf_token;
      } catch (error) {
        dispatch({ type: 'session/loaded', user: undefined, csrfToken: undefined });
        dispatch({ type: 'notice/shown', text: toProblem(error).detail });
        return undefined;
      }
    },

    /** The server no longer knows our session (it expired, or we logged out elsewhere). */
    sessionEnded(): void {
      if (getState().session.status !== 'authenticated') return;
      dispatch({ type: 'session/loaded', user: undefined, csrfToken: undefined });
      dispatch({ type: 'notice/shown', text: 'Your session ended; log in again.' });
    },

    async signUp(user: NewUser): Promise<void> {
      const created = await submit('signup', () => api.register(user));
      if (created === undefined) return;
      dispatch({
        type: 'notice/shown',
        text: `Welcome, ${created.data.user.name}! Your account is ready: log in to continue.`,
      });
      commands.navigate({ name: 'login', username: created.data.user.username });
    },

    async logIn(username: string, password: string): Promise<void> {
      const session = await submit('login', () => api.logIn(username, password));
      if (session === undefined) return;
      sessionLoaded(session.data);
      dispatch({ type: 'notice/shown', text: `Logged in as ${username}.` });
      commands.navigate({ name: 'feed' });
    },

    async logOut(): Promise<void> {
      const done = await submit('logout', () => api.logOut());
      // Logged out either way when the server no longer knows the session.
      if (done === undefined && getState().forms.logout?.problem?.status !== 401) return;
      dispatch({ type: 'session/loaded', user: undefined, csrfToken: undefined });
      dispatch({ type: 'notice/shown', text: 'You are logged out.' });
      commands.navigate({ name: 'feed' });
    },

    async loadFeed(username?: string, minPosition?: number): Promise<void> {
      dispatch({ type: 'feed/loading', username });
      try {
        const { data } =
          username === undefined
            ? await api.tweets(minPosition)
            : await api.tweetsOf(username, minPosition);
        dispatch({ type: 'feed/loaded', username, tweets: data.tweets_list });
      } catch (error) {
        dispatch({ type: 'feed/failed', username, problem: toProblem(error) });
      }
    },

    async postTweet(body: string): Promise<boolean> {
      const posted = await submit('tweet', () => api.postTweet(body));
      if (posted === undefined) return false;
      await commands.loadFeed(getState().feed.username, posted.position);
      return true;
    },

    async loadProfile(): Promise<void> {
      const user = getState().session.user;
      if (user === undefined) return;
      dispatch({ type: 'profile/loading' });
      try {
        const response = await api.user(user.id);
        const details = response.data.user_details[0];
        if (details === undefined) throw new Error(`The API answered no user for ${user.id}`);
        dispatch({ type: 'profile/loaded', user: details, etag: response.etag });
      } catch (error) {
        dispatch({ type: 'profile/failed', problem: toProblem(error) });
      }
    },

    async saveProfile(form: 'profile' | 'password', changes: UserChanges): Promise<boolean> {
      const { profile, session } = getState();
      const id = profile.data?.id ?? session.user?.id;
      if (id === undefined) return false;
      const saved = await submit(form, () => api.updateUser(id, changes, profile.etag));
      if (saved === undefined) {
        // Changed elsewhere since we read it: show the account as it is now (the problem
        // stays next to the form), so the user decides on the current version.
        if (getState().forms[form]?.problem?.status === 412) await commands.loadProfile();
        return false;
      }
      dispatch({ type: 'profile/loaded', user: saved.data.user, etag: saved.etag });
      dispatch({
        type: 'notice/shown',
        text: form === 'password' ? 'Your password is changed.' : 'Your profile is saved.',
      });
      return true;
    },

    async loadProducts(minPosition?: number): Promise<void> {
      dispatch({ type: 'products/loading' });
      try {
        const { data } = await api.products(minPosition);
        dispatch({ type: 'products/loaded', products: data.products });
      } catch (error) {
        dispatch({ type: 'products/failed', problem: toProblem(error) });
      }
    },

    async addProduct(product: NewProduct): Promise<boolean> {
      const added = await submit('product', () => api.addProduct(product));
      if (added === undefined) return false;
      dispatch({ type: 'notice/shown', text: `${added.data.product.name} is in the shop.` });
      await commands.loadProducts(added.position);
      return true;
    },

    setCartQuantity(productId: string, quantity: number): void {
      dispatch({ type: 'cart/set', productId, quantity });
    },

    addToCart(productId: string): void {
      const quantity = getState().shop.cart[productId] ?? 0;
      dispatch({ type: 'cart/set', productId, quantity: quantity + 1 });
    },

    async loadOrders(minPosition?: number): Promise<void> {
      if (getState().session.status !== 'authenticated') return;
      dispatch({ type: 'orders/loading' });
      try {
        const { data } = await api.orders(minPosition);
        dispatch({ type: 'orders/loaded', orders: data.orders });
      } catch (error) {
        dispatch({ type: 'orders/failed', problem: toProblem(error) });
      }
    },

    async placeOrder(): Promise<void> {
      const items = Object.entries(getState().shop.cart).map(([product_id, quantity]) => ({
        product_id,
        quantity,
      }));
      const placed = await submit('order', () => api.placeOrder(items));
      if (placed === undefined) return;
      dispatch({ type: 'cart/cleared' });
      dispatch({ type: 'order/updated', order: placed.data.order });
      dispatch({ type: 'notice/shown', text: 'Order placed. Pay it below.' });
    },

    async payOrder(order: Order, method: PaymentMethod): Promise<void> {
      const paid = await submit(`pay:${order.id}`, () =>
        api.payOrder(order, order.total_cents, method),
      );
      if (paid === undefined) return;
      dispatch({ type: 'order/updated', order: paid.data.order });
      dispatch({ type: 'notice/shown', text: 'Payment processed. Thank you!' });
    },

    /**
     * Follows the shop's live feed while the shop is shown: stock and order changes refresh the
     * products and orders (reading the read models at the event's position).
     */
    startShopLive(): void {
      if (shopLive !== undefined) return;
      const refresh = (stale: { products?: number; orders?: number }) => {
        if (stale.products !== undefined) void commands.loadProducts(stale.products);
        if (stale.orders !== undefined) void commands.loadOrders(stale.orders);
      };
      shopLive = openLiveTail({
        from: undefined,
        url: (at) => `/api/shop/live${at === undefined ? '' : `?from=${at}`}`,
        onEvents: (events) => refresh(staleShopData(events)),
        onStatus: (status) => {
          dispatch({ type: 'shopLive/status', status });
          // What changed while (re)connecting came before the feed: read it all once.
          if (status === 'open') refresh({ products: 0, orders: 0 });
        },
        // Anyone may follow the shop: a refusal is the server's trouble, so try again later.
        diagnose: () => Promise.resolve(undefined),
      });
    },

    stopShopLive(): void {
      shopLive?.close();
      shopLive = undefined;
    },

    // ------------------------------------------------------------------ event explorer

    /** Starts the live tail (once for every caller; `stopLive` when done). */
    startLive(): void {
      liveUsers += 1;
      if (liveTail !== undefined || liveStarting) return;
      const lastPosition = getState().explorer.live.lastPosition;
      const open = (from: number | undefined) => {
        if (liveUsers === 0 || liveTail !== undefined) return;
        liveTail = openLiveTail({
          from,
          url: (at) => `/api/events/live${at === undefined ? '' : `?from=${at}`}`,
          onEvents: (events) => dispatch({ type: 'live/received', events }),
          onStatus: (status, problem) => dispatch({ type: 'live/status', status, problem }),
          diagnose: async () => {
            try {
              await api.subscriptions();
              return undefined;
            } catch (error) {
              const problem = toProblem(error);
              return problem.status === 401 || problem.status === 403 ? problem : undefined;
            }
          },
        });
      };
      if (lastPosition !== undefined) {
        open(lastPosition + 1);
        return;
      }
      // First time: the latest events from the log, then live from right after them.
      dispatch({ type: 'live/status', status: 'connecting' });
      liveStarting = true;
      void (async () => {
        try {
          const { data: probe } = await api.events(undefined, 1);
          const from = Math.max(0, probe.head - RECENT_EVENTS + 1);
          const { data: page } = await api.events(from, RECENT_EVENTS);
          dispatch({ type: 'live/received', events: page.events });
          open(page.nextFrom);
        } catch (error) {
          const problem = toProblem(error);
          if (problem.status === 401 || problem.status === 403) {
            dispatch({ type: 'live/status', status: 'closed', problem });
          } else {
            open(undefined);
          }
        } finally {
          liveStarting = false;
          if (liveUsers === 0) dispatch({ type: 'live/status', status: 'idle' });
        }
      })();
    },

    stopLive(): void {
      liveUsers = Math.max(0, liveUsers - 1);
      if (liveUsers > 0) return;
      liveTail?.close();
      liveTail = undefined;
    },

    async loadSubscriptions(): Promise<void> {
      try {
        const { data } = await api.subscriptions();
        dispatch({ type: 'subscriptions/loaded', list: data });
      } catch (error) {
        dispatch({ type: 'subscriptions/failed', problem: toProblem(error) });
      }
    },

    async loadEventRate(windowSeconds = 300, bucketSeconds = 5): Promise<void> {
      try {
        const { data } = await api.eventRate(windowSeconds, bucketSeconds);
        dispatch({ type: 'rate/loaded', rate: data });
      } catch (error) {
        dispatch({ type: 'rate/failed', problem: toProblem(error) });
      }
    },

    async loadStream(streamId: string): Promise<void> {
      dispatch({ type: 'stream/loading', streamId });
      try {
        const { data } = await api.stream(streamId);
        dispatch({ type: 'stream/loaded', stream: data });
      } catch (error) {
        dispatch({ type: 'stream/failed', streamId, problem: toProblem(error) });
      }
    },

    async loadWorkflows(): Promise<void> {
      try {
        const { data } = await api.workflows();
        dispatch({ type: 'workflows/loaded', list: data });
      } catch (error) {
        dispatch({ type: 'workflows/failed', problem: toProblem(error) });
      }
    },

    async loadWorkflowInstance(workflow: string, instanceId: string): Promise<void> {
      const key = `${workflow}/${instanceId}`;
      dispatch({ type: 'workflow/loading', key });
      try {
        const { data } = await api.workflowInstance(workflow, instanceId);
        dispatch({ type: 'workflow/loaded', key, instance: data });
      } catch (error) {
        dispatch({ type: 'workflow/failed', key, problem: toProblem(error) });
      }
    },

    /** The signed-in user's emails; a server without the dev mailbox (404) hides it. */
    async loadMailbox(): Promise<void> {
      if (getState().session.status !== 'authenticated') return;
      dispatch({ type: 'mailbox/loading' });
      try {
        const { data } = await api.devEmails();
        dispatch({ type: 'mailbox/loaded', emails: data.emails });
      } catch (error) {
        const problem = toProblem(error);
        if (problem.status === 404) dispatch({ type: 'mailbox/unavailable' });
        else dispatch({ type: 'mailbox/failed', problem });
      }
    },

    async loadAggregateState(streamId: string, version: number | undefined): Promise<void> {
      dispatch({ type: 'state/loading', streamId, version });
      try {
        const { data } = await api.aggregateState(streamId, version);
        dispatch({ type: 'state/loaded', state: data });
      } catch (error) {
        dispatch({ type: 'state/failed', streamId, problem: toProblem(error) });
      }
    },
  };
  return commands;
}

export type Commands = ReturnType<typeof createCommands>;
