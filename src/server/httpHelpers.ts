import type { Context } from 'hono';
import type { Actor, ReferenceApp, WriteOptions, WriteResult } from '../app/index.js';
import type { ApiEnv } from './apiEnv.js';
import { HttpProblem } from './problem.js';

/** A strong ETag for a stream version. */
export const etagOf = (version: number): string => `"${version}"`;

/**
 * The version an `If-Match` header asks for: undefined without one (or for `*`); a 400 for a
 * header that is not one quoted version (weak tags never match: RFC 9110 compares strongly).
 */
export function ifMatchVersion(c: Context<ApiEnv>): number | undefined {
  const header = c.req.header('if-match');
  if (header === undefined || header.trim() === '*') return undefined;
  if (!IF_MATCH.test(header.trim())) {
    throw new HttpProblem('validation-failed', {
      detail: `If-Match must be one ETag from a response of this API, like "3"; got ${header.slice(0, 60)}`,
      errors: [
        {
          pointer: 'header:If-Match',
          field: 'headers.if-match',
          message: 'must be one strong ETag such as "3"',
        },
      ],
    });
  }
  return Number(header.trim().replaceAll('"', ''));
}

/** What If-Match accepts: `*` or one version ETag (quoted as sent, or bare). */
export const IF_MATCH = /^(\*|"\d{1,15}"|\d{1,15})$/;
/** What Idempotency-Key accepts: 1 to 255 visible ASCII characters. */
export const IDEMPOTENCY_KEY = /^[!-~]{1,255}$/;

/** The write options of a request: If-Match, Idempotency-Key and tracing metadata. */
export function writeOptionsOf(c: Context<ApiEnv>, actor: Actor | undefined): WriteOptions {
  const key = c.req.header('idempotency-key');
  if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
    throw new HttpProblem('validation-failed', {
      detail: 'Idempotency-Key must be 1 to 255 visible ASCII characters (a UUID is ideal)',
      errors: [
        {
          pointer: 'header:Idempotency-Key',
          field: 'headers.idempotency-key',
          message: 'must be 1 to 255 visible ASCII characters',
        },
      ],
    });
  }
  const expectedVersion = ifMatchVersion(c);
  return {
    ...(expectedVersion !== undefined ? { expectedVersion } : {}),
    ...(key !== undefined ? { idempotencyKey: key } : {}),
    metadata: {
      requestId: c.get('requestId'),
      // What the request causes downstream (workflows, workers) keeps it: the explorer links
      // the events of one request on a timeline by it.
      correlationId: c.get('requestId'),
      ...(actor !== undefined ? { userId: actor.userId } : {}),
    },
  };
}

/**
 * Headers of a write's response — the new ETag and `X-Eventloom-Position` — after waiting
 * (bounded) for the read models to include the write, so the client's next list shows it.
 */
export async function afterWrite(
  c: Context<ApiEnv>,
  app: ReferenceApp,
  result: WriteResult<unknown>,
  readYourWritesMs: number,
): Promise<Record<string, string>> {
  if (readYourWritesMs > 0 && result.position > 0) {
    await app.waitForReadModels(result.position, readYourWritesMs);
  }
  return {
    etag: etagOf(result.version),
    'x-eventloom-position': String(result.position),
    ...(result.replayed ? { 'idempotent-replayed': 'true' } : {}),
  };
}

/** Waits (bounded) until the read models include `minPosition`, when a client asks for it. */
export async function readModelsAt(
  app: ReferenceApp,
  minPosition: number | undefined,
): Promise<void> {
  if (minPosition !== undefined && minPosition > 0) {
    await app.waitForReadModels(minPosition, 5000);
  }
}

/** JSON with extra headers. */
export function json(
  c: Context<ApiEnv>,
  body: unknown,
  status: 200 | 201 = 200,
  headers: Record<string, string> = {},
): Response {
  return c.json(body, status, headers);
}
