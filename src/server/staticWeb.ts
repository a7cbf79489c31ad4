import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Hono, MiddlewareHandler } from 'hono';
import type { ApiEnv } from './apiEnv.js';

const PLACEHOLDER = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Eventloom</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:44rem;margin:3rem auto;padding:0 1rem;color:#222}
code{background:#f3f3f3;padding:.1rem .3rem;border-radius:3px}li{margin:.2rem 0}</style></head>
<body>
<h1>Eventloom is running</h1>
<p>The web UI is not built into this package yet. The API is here:</p>
<ul>
<li><a href="/api/openapi.json">/api/openapi.json</a> — the OpenAPI 3.1 document</li>
<li><a href="/api/v1/info">/api/v1/info</a>, <a href="/api/v1/users">/api/v1/users</a>, <a href="/api/v2/tweets">/api/v2/tweets</a></li>
<li><a href="/api/shop/products">/api/shop/products</a></li>
<li><a href="/api/events">/api/events</a> and <a href="/api/events/live">/api/events/live</a> (server-sent events)</li>
<li><a href="/health">/health</a>, <a href="/metrics">/metrics</a></li>
</ul>
</body></html>
`;

/**
 * Serves the built web UI from `root` (files, and `index.html` for the UI's own routes) —
 * or, when there is none, a placeholder page that links the API.
 */
export function serveWeb(app: Hono<ApiEnv>, root: string | undefined): void {
  const index = root === undefined ? undefined : join(root, 'index.html');
  if (root === undefined || index === undefined || !existsSync(index)) {
    app.get('/', (c) => {
      c.set('route', '/');
      return c.html(PLACEHOLDER);
    });
    return;
  }
  const files = serveStatic<ApiEnv>({ root: relative(process.cwd(), root) || '.' });
  const staticFiles: MiddlewareHandler<ApiEnv> = async (c, next) => {
    if (c.req.path.startsWith('/api/') || c.req.method !== 'GET') return next();
    c.set('route', 'static');
    return files(c, next);
  };
  app.use('/*', staticFiles);
  // A path of the single-page UI (e.g. /explorer/streams/user-1): the UI routes it.
  app.get('/*', async (c, next) => {
    const accept = c.req.header('accept') ?? '';
    if (c.req.path.startsWith('/api/') || !accept.includes('text/html')) return next();
    c.set('route', 'static');
    return c.html(await readFile(index, 'utf8'));
  });
}
