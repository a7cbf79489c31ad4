import { isIP } from 'node:net';
import type { MiddlewareHandler } from 'hono';
import type { ApiEnv } from './apiEnv.js';
import { HttpProblem } from './problem.js';

/** The name in a Host header, without port or IPv6 brackets, lower-cased. */
export function hostName(host: string): string {
  const trimmed = host.trim().toLowerCase();
  const bracketed = /^\[([^\]]+)\](?::\d*)?$/.exec(trimmed);
  if (bracketed?.[1] !== undefined) return bracketed[1];
  return trimmed.replace(/:\d*$/, '');
}

/** Whether `url` is `http(s)://<host>/...`: the URL the adapter builds from an origin-form target. */
function isBuiltFrom(url: string, host: string): boolean {
  const start = url.startsWith('http://') ? 7 : url.startsWith('https://') ? 8 : -1;
  // The path must follow the name at once: `http://<host>@other/` and `http://<host>.other/`
  // name another host.
  return start > 0 && url.startsWith(host, start) && url[start + host.length] === '/';
}

/**
 * Refuses requests whose Host names this server by a name it was not told about (421).
 * DNS rebinding points an attacker's domain at this server so that the attacker's page can
 * read it as same-origin; the browser then sends the attacker's domain as Host. Addresses
 * (`127.0.0.1`, `[::1]`, `192.0.2.7`) and `localhost` cannot be rebound, so they always pass,
 * on any port (port mappings and dev-server proxies change it); names pass only when listed.
 */
export function hostGuard(allowedNames: readonly string[]): MiddlewareHandler<ApiEnv> {
  const allowed = new Set(['localhost', ...allowedNames.map(hostName)]);
  const check = (host: string): void => {
    const name = hostName(host);
    if (!allowed.has(name) && isIP(name) === 0) {
      throw new HttpProblem('misdirected-request', {
        detail: `This server does not answer for the host ${JSON.stringify(host.slice(0, 100))}; set PUBLIC_ORIGIN to the origin clients use (e.g. https://shop.example.com) or HOST to the name it listens on`,
      });
    }
  };
  return async (c, next) => {
    // An absolute-form target (`GET http://name/path`) names the host itself and HTTP/1.1
    // ranks it above the Host header; the request URL then carries it, so both must pass.
    const header = c.req.header('host');
    if (header !== undefined) check(header);
    // An origin-form target's URL is the Host header's own: parsing it again (a URL parse per
    // request) would check the same name twice.
    const url = c.req.url;
    if (header === undefined || !isBuiltFrom(url, header)) check(new URL(url).host);
    await next();
  };
}
