/** The UI's pages. The server answers index.html for any of their paths. */
export type Route =
  | { name: 'feed' }
  | { name: 'userFeed'; username: string }
  | { name: 'signup' }
  | { name: 'login'; username?: string }
  | { name: 'profile' }
  | { name: 'shop' }
  | { name: 'explorer' }
  | { name: 'stream'; streamId: string; version: number | undefined }
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
  }
  const user = /^\/users\/([^/]+)$/.exec(path);
  const username = user?.[1] === undefined ? undefined : decode(user[1]);
  if (username !== undefined) return { name: 'userFeed', username };
  const stream = /^\/explorer\/streams\/([^/]+)$/.exec(path);
  const streamId = stream?.[1] === undefined ? undefined : decode(stream[1]);
  if (streamId !== undefined) {
    const v = new URLSearchParams(search).get('version');
    const version = v !== null && /^\d{1,15}$/.test(v) ? Number(v) : undefined;
    return { name: 'stream', streamId, version };
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
    case 'stream':
      return `/explorer/streams/${encodeURIComponent(route.streamId)}${
        route.version !== undefined ? `?version=${route.version}` : ''
      }`;
    case 'notFound':
      return route.path;
  }
}

/** Pages that need a logged-in user. */
export const needsLogin = (route: Route): boolean => route.name === 'profile';
