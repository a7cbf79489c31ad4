import type { MiddlewareHandler } from 'hono';
import type { ApiEnv } from './apiEnv.js';
import { HttpProblem } from './problem.js';

export interface CsrfGuardOptions {
  /** Other origins whose pages may call the API (e.g. a dev server: `http://localhost:5173`). */
  allowedOrigins: readonly string[];
  /** Trust X-Forwarded-Proto/Host for the API's own origin (behind a proxy you run). */
  trustProxy: boolean;
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Refuses unsafe requests sent by another site's page: browsers name the page's origin in
 * `Origin` (and `Sec-Fetch-Site`) on every cross-origin POST/PUT/DELETE and a page cannot
 * forge either. Together with JSON-only bodies (a form cannot send one) and the per-session
 * `x-csrf-token`, a logged-in browser cannot be made to act by a third-party page — not
 * with its cookie, nor with Basic credentials it may have cached. Clients that are not
 * browsers send neither header and pass.
 */
export function csrfGuard(options: CsrfGuardOptions): MiddlewareHandler<ApiEnv> {
  const allowed = new Set(options.allowedOrigins);
  return async (c, next) => {
    if (UNSAFE.has(c.req.method)) {
      const origin = c.req.header('origin');
      if (origin !== undefined) {
        if (
          origin !== ownOrigin(c.req.raw, c.req.url, options.trustProxy) &&
          !allowed.has(origin)
        ) {
          throw new HttpProblem('csrf-failed', {
            detail: `Requests from pages at ${origin} are not allowed; add the origin to ALLOWED_ORIGINS if it is yours`,
          });
        }
      } else if (c.req.header('sec-fetch-site') === 'cross-site') {
        throw new HttpProblem('csrf-failed', { detail: 'Cross-site requests are not allowed' });
      }
    }
    await next();
  };
}

function ownOrigin(request: Request, url: string, trustProxy: boolean): string {
  const own = new URL(url);
  if (trustProxy) {
    const proto = request.headers.get('x-forwarded-proto')?.split(',')[0]?.trim();
    const host = request.headers.get('x-forwarded-host')?.split(',')[0]?.trim();
    if (proto) own.protocol = `${proto}:`;
    if (host) own.host = host;
  }
  return own.origin;
}
