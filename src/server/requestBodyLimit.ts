import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { ApiEnv } from './apiEnv.js';

/**
 * Hono's body limit, without its cost for the usual request: a body with a Content-Length
 * (and no Transfer-Encoding) is judged by that header alone, as Hono's middleware does too,
 * but without touching `c.req.raw.body` — on the Node adapter that builds a web `Request`
 * and turns the socket into a web stream, where a handler's `c.req.text()` otherwise reads
 * the body straight from the socket. Chunked bodies go through Hono's counting reader.
 */
export function requestBodyLimit(
  maxBytes: number,
  onError: NonNullable<Parameters<typeof bodyLimit>[0]['onError']>,
): MiddlewareHandler<ApiEnv> {
  const counting = bodyLimit({ maxSize: maxBytes, onError });
  return async (c, next) => {
    const method = c.req.method;
    if (method === 'GET' || method === 'HEAD') return next();
    const length = c.req.header('content-length');
    if (length !== undefined && c.req.header('transfer-encoding') === undefined) {
      return parseInt(length, 10) > maxBytes ? onError(c) : next();
    }
    return counting(c, next);
  };
}
