import { createApiClient } from '../api/apiClient.ts';
import { createEventloomApi } from '../api/eventloomApi.ts';
import { parseRoute } from '../lib/routes.ts';
import { type Action, type AppState, initialState, reducer } from './appState.ts';
import { createCommands } from './commands.ts';
import { createStore, useStoreState } from './createStore.ts';

/** The page's one store. */
export const store = createStore<AppState, Action>(
  reducer,
  initialState(parseRoute(location.pathname, location.search), Date.now()),
);

const client = createApiClient({
  csrfToken: () => store.getState().session.csrfToken,
  refreshCsrfToken: () => commands.loadSession(),
  onUnauthorized: () => commands.sessionEnded(),
});

export const api = createEventloomApi(client);

export const commands = createCommands(store, api, {
  push: (path) => history.pushState(null, '', path),
  replace: (path) => history.replaceState(null, '', path),
});

/** A slice of the app state, re-rendering the component when it changes. */
export const useAppState = <T>(selector: (state: AppState) => T): T =>
  useStoreState(store, selector);
