/** The UI's pages. The server answers index.html for any of their paths. */
export type Route =
  | { name: 'feed' }
  | { name: 'userFeed'; username: string }
  | { name: 'signup' }
  | { name: 'login'; username?: string }
  | { name: 'profile' }
  | { name: 'shop' }
  | { name: 'explorer' }
  /** `event`: open the stream at the version of this event (a link from an order's timeline). */
  | { name: 'stream'; streamId: string; version: number | undefined; event?: string }
  | { name: 'workflows' }
  | { name: 'workflow'; workflow: string; instanceId: string }
  | { name: 'mailbox' }
  | { name: 'notFound'; path: string };

const decode = (segment: string): string | undefined => {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
};

/** The page for a location's path and query. */
export function parseRoute(pathname: string, search = ''): Route {
  const path = pathname.replace(/\/+$/, '') || '/';
  switch (path) {
    case '/':
      return { name: 'feed' };
    case '/signup':
      return { name: 'signup' };
    case '/login': {
      const username = new URLSearchParams(search).get('username');
      return username === null ? { name: 'login' } : { name: 'login', username };
    }
    case '/profile':
      return { name: 'profile' };
    case '/shop':
      return { name: 'shop' };
    case '/explorer':
      return { name: 'explorer' };
    case '/explorer/workflows':
      return { name: 'workflows' };
    case '/mailbox':
      return { name: 'mailbox' };
  }
  const instance = /^\/explorer\/workflows\/([^/]+)\/([^/]+)$/.exec(path);
  const workflow = instance?.[1] === undefined ? undefined : decode(instance[1]);
  const instanceId = instance?.[2] === undefined ? undefined : decode(instance[2]);
  if (workflow !== undefined && instanceId !== undefined) {
    return { name: 'workflow', workflow, instanceId };
  }
  const user = /^\/users\/([^/]+)$/.exec(path);
  const username = user?.[1] === undefined ? undefined : decode(user[1]);
  if (username !== undefined) return { name: 'userFeed', username };
  const stream = /^\/explorer\/streams\/([^/]+)$/.exec(path);
  const streamId = stream?.[1] === undefined ? undefined : decode(stream[1]);
  if (streamId !== undefined) {
    const v = new URLSearchParams(search).get('version');
    const version = v !== null && /^\d{1,15}$/.test(v) ? Number(v) : undefined;
    const event = new URLSearchParams(search).get('event');
    return event === null
      ? { name: 'stream', streamId, version }
      : { name: 'stream', streamId, version, event };
  }
  return { name: 'notFound', path: pathname };
}

/** The path of a page (inverse of `parseRoute`). */
export function routePath(route: Route): string {
  switch (route.name) {
    case 'feed':
      return '/';
    case 'userFeed':
      return `/users/${encodeURIComponent(route.username)}`;
    case 'login':
      return route.username === undefined
        ? '/login'
        : `/login?username=${encodeURIComponent(route.username)}`;
    case 'signup':
    case 'profile':
    case 'shop':
    case 'explorer':
      return `/${route.name}`;
    case 'stream': {
      const search = new URLSearchParams();
      if (route.version !== undefined) search.set('version', String(route.version));
      if (route.event !== undefined) search.set('event', route.event);
      const query = search.toString();
      return `/explorer/streams/${encodeURIComponent(route.streamId)}${query === '' ? '' : `?${query}`}`;
    }
    case 'workflows':
      return '/explorer/workflows';
    case 'workflow':
      return `/explorer/workflows/${encodeURIComponent(route.workflow)}/${encodeURIComponent(route.instanceId)}`;
    case 'mailbox':
      return '/mailbox';
    case 'notFound':
      return route.path;
  }
}

/** Pages that need a logged-in user. */
export const needsLogin = (route: Route): boolean =>
  route.name === 'profile' || route.name === 'mailbox';
