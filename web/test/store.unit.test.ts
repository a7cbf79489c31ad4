import { describe, expect, it, vi } from 'vitest';
import type { Order, StoredEvent, WorkflowInstance } from '../src/api/types.ts';
import {
  type Action,
  type AppState,
  initialState,
  mergeEvents,
  reducer,
} from '../src/store/appState.ts';
import { createStore } from '../src/store/createStore.ts';

const event = (position: number, streamId = `tweet-${position}`): StoredEvent => ({
  id: `e${position}`,
  streamId,
  type: 'TweetPosted',
  data: {},
  metadata: {},
  version: 1,
  position,
  recordedAt: '2026-01-01T00:00:00.000Z',
});

const apply = (...actions: Action[]): AppState =>
  actions.reduce(reducer, initialState({ name: 'feed' }, 0));

describe('createStore', () => {
  it('notifies subscribers of a change, and not of an action that changes nothing', () => {
    const store = createStore((n: number, by: number) => n + by, 0);
    const listener = vi.fn();
    const unsubscribe = store.subscribe(listener);
    store.dispatch(2);
    store.dispatch(0);
    expect(store.getState()).toBe(2);
    expect(listener).toHaveBeenCalledTimes(1);
    unsubscribe();
    store.dispatch(1);
    expect(listener).toHaveBeenCalledTimes(1);
  });

  it('refuses a dispatch from inside the reducer', () => {
    const store = createStore<number, number>((n) => {
      store.dispatch(1);
      return n;
    }, 0);
    expect(() => store.dispatch(1)).toThrow('A reducer must not dispatch');
  });
});

describe('the live tail in the state', () => {
  it('keeps events newest first without repeating one delivered twice', () => {
    const merged = mergeEvents([event(3), event(2)], [event(3), event(5), event(4), event(5)]);
    expect(merged.map((e) => e.position)).toEqual([5, 4, 3, 2]);
  });

  it('keeps only the newest events', () => {
    const merged = mergeEvents(
      [],
      [1, 2, 3, 4].map((p) => event(p)),
      3,
    );
    expect(merged.map((e) => e.position)).toEqual([4, 3, 2]);
  });

  it('remembers the last position received, to resume after it', () => {
    const state = apply(
      { type: 'live/received', events: [event(7), event(9)] },
      { type: 'live/received', events: [event(8)] },
    );
    expect(state.explorer.live.lastPosition).toBe(9);
    expect(state.explorer.live.events.map((e) => e.position)).toEqual([9, 8, 7]);
  });

  it('answers the same state when only known events arrive', () => {
    const state = apply({ type: 'live/received', events: [event(1)] });
    expect(reducer(state, { type: 'live/received', events: [event(1)] })).toBe(state);
  });
});

describe('the reducer', () => {
  const ada = { id: 'u1', username: 'ada', role: 'user' as const };
  const bob = { id: 'u2', username: 'bob', role: 'user' as const };

  it('forgets the cart and orders of a user who logs out or is replaced', () => {
    const withCart = apply(
      { type: 'session/loaded', user: ada, csrfToken: 't' },
      { type: 'cart/set', productId: 'p1', quantity: 2 },
    );
    expect(withCart.shop.cart).toEqual({ p1: 2 });
    const sameUser = reducer(withCart, { type: 'session/loaded', user: ada, csrfToken: 't2' });
    expect(sameUser.shop.cart).toEqual({ p1: 2 });
    expect(sameUser.session.csrfToken).toBe('t2');
    expect(
      reducer(withCart, { type: 'session/loaded', user: bob, csrfToken: 'u' }).shop.cart,
    ).toEqual({});
    const loggedOut = reducer(withCart, {
      type: 'session/loaded',
      user: undefined,
      csrfToken: undefined,
    });
    expect(loggedOut.session).toEqual({ status: 'anonymous' });
    expect(loggedOut.shop.cart).toEqual({});
  });

  it('caps cart quantities and drops lines set to zero', () => {
    const state = apply(
      { type: 'cart/set', productId: 'p1', quantity: 500 },
      { type: 'cart/set', productId: 'p2', quantity: 1 },
      { type: 'cart/set', productId: 'p2', quantity: 0 },
    );
    expect(state.shop.cart).toEqual({ p1: 100 });
  });

  it('records a form’s problem and clears it on the next submission', () => {
    const problem = { type: 'urn:x', title: 'Bad', status: 400, detail: 'no' };
    const failed = apply(
      { type: 'form/submitted', form: 'tweet' },
      { type: 'form/failed', form: 'tweet', problem },
    );
    expect(failed.forms.tweet).toEqual({ pending: false, problem, succeeded: 0 });
    const again = reducer(failed, { type: 'form/submitted', form: 'tweet' });
    expect(again.forms.tweet).toEqual({ pending: true, problem: undefined, succeeded: 0 });
    expect(reducer(again, { type: 'form/succeeded', form: 'tweet' }).forms.tweet?.succeeded).toBe(
      1,
    );
  });

  it('ignores a feed answer for a page no longer shown', () => {
    const state = apply({ type: 'feed/loading', username: 'bob' });
    expect(reducer(state, { type: 'feed/loaded', username: undefined, tweets: [] })).toBe(state);
  });

  it('shows the aggregate state of the version asked for last, not a slower earlier answer', () => {
    const aggregate = (version: number) => ({
      streamId: 'order-1',
      aggregate: 'order',
      version,
      currentVersion: 3,
      state: { version },
    });
    const state = apply(
      { type: 'state/loading', streamId: 'order-1', version: 1 },
      { type: 'state/loading', streamId: 'order-1', version: 2 },
      { type: 'state/loaded', state: aggregate(1) },
    );
    expect(state.explorer.state.data).toBeUndefined();
    const loaded = reducer(state, { type: 'state/loaded', state: aggregate(2) });
    expect(loaded.explorer.state.data?.version).toBe(2);
  });

  it('updates an order in place, or adds a new one first', () => {
    const order = (id: string, status: Order['status']) => ({ id, status }) as Order;
    const state = apply(
      { type: 'orders/loaded', orders: [order('o1', 'placed')] },
      { type: 'order/updated', order: order('o2', 'placed') },
      { type: 'order/updated', order: order('o1', 'paid') },
    );
    expect(state.shop.orders.data?.map((o) => `${o.id}:${o.status}`)).toEqual([
      'o2:placed',
      'o1:paid',
    ]);
  });
});

describe('workflows and the mailbox in the state', () => {
  it('shows the instance asked for last, not a slower answer for another one', () => {
    const instance = (instanceId: string): WorkflowInstance => ({
      workflow: 'order',
      instanceId,
      streamId: `workflow-order-${instanceId}`,
      version: 1,
      state: {},
      timers: [],
      inputs: [],
    });
    const state = apply(
      { type: 'workflow/loading', key: 'order/a' },
      { type: 'workflow/loading', key: 'order/b' },
      { type: 'workflow/loaded', key: 'order/a', instance: instance('a') },
    );
    expect(state.explorer.workflow).toMatchObject({ key: 'order/b', status: 'loading' });
    expect(state.explorer.workflow.data).toBeUndefined();
  });

  it('marks the mailbox unavailable on a server without one, and forgets it when the user changes', () => {
    const user = { id: 'u1', username: 'ada', role: 'user' as const };
    const state = apply(
      { type: 'session/loaded', user, csrfToken: 't' },
      { type: 'mailbox/unavailable' },
    );
    expect(state.mailbox.available).toBe(false);
    const next = reducer(state, { type: 'session/loaded', user: undefined, csrfToken: undefined });
    expect(next.mailbox).toEqual({ status: 'idle' });
  });
});
