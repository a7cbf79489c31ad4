import { useSyncExternalStore } from 'react';

/** A reducer: the only place the state changes, from the state before and one action. */
export type Reducer<S, A> = (state: S, action: A) => S;

/**
 * A Flux store: one state, changed only by dispatching actions through the reducer; views
 * subscribe and re-render from `getState()`.
 */
export interface Store<S, A> {
  readonly getState: () => S;
  readonly dispatch: (action: A) => void;
  readonly subscribe: (listener: () => void) => () => void;
}

export function createStore<S, A>(reducer: Reducer<S, A>, initial: S): Store<S, A> {
  let state = initial;
  const listeners = new Set<() => void>();
  let dispatching = false;
  return {
    getState: () => state,
    dispatch(action) {
      // A reducer that dispatches would make the order of changes depend on call depth.
      if (dispatching) throw new Error('A reducer must not dispatch');
      dispatching = true;
      let next: S;
      try {
        next = reducer(state, action);
      } finally {
        dispatching = false;
      }
      if (next === state) return;
      state = next;
      for (const listener of [...listeners]) listener();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/**
 * Reads a slice of a store's state in a component and re-renders when it changes. The
 * selector must answer a value from the state (not a new object per call).
 */
export function useStoreState<S, A, T>(store: Store<S, A>, selector: (state: S) => T): T {
  return useSyncExternalStore(
    store.subscribe,
    () => selector(store.getState()),
    () => selector(store.getState()),
  );
}
