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

/**
 * Refuses requests whose Host names this server by a name it was not told about (421).
 * DNS rebinding points an attacker's domain at this server so that the attacker's page can
 * read it as same-origin; the browser then sends the attacker's domain as Host. Addresses
 * (`127.0.0.1`, `[::1]`, `192.0.2.7`) and `localhost` cannot be rebound, so they always pass,
 * on any port (port mappings and dev-server proxies change it); names pass only when listed.
 */
export function hostGuard(allowedNames: readonly string[]): MiddlewareHandler<ApiEnv> {
  const allowed = new Set(['localhost', ...allowedNames.map(hostName)]);
  return async (c, next) => {
    // An absolute-form target (`GET http://name/path`) names the host itself and HTTP/1.1
    // ranks it above the Host header; the request URL then carries it, so both must pass.
    for (const host of [c.req.header('host'), new URL(c.req.url).host]) {
      if (host === undefined) continue;
      const name = hostName(host);
      if (!allowed.has(name) && isIP(name) === 0) {
        throw new HttpProblem('misdirected-request', {
          detail: `This server does not answer for the host ${JSON.stringify(host.slice(0, 100))}; set PUBLIC_ORIGIN to the origin clients use (e.g. https://shop.example.com) or HOST to the name it listens on`,
        });
      }
    }
    await next();
  };
}
