import { createHmac, createSecretKey } from 'node:crypto';
import { isIP } from 'node:net';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import { getCookie } from 'hono/cookie';
import type { Accounts } from '../app/index.js';
import type { ApiEnv, Authenticated } from './apiEnv.js';
import type { LoginRateLimiter } from './loginRateLimiter.js';
import { HttpProblem } from './problem.js';
import type { SessionStore } from './sessionStore.js';

export interface AuthenticatorOptions {
  accounts: Accounts;
  sessions: SessionStore;
  limiter: LoginRateLimiter;
  cookieName: string;
  /** Take the client address from X-Forwarded-For (only behind a proxy you run). */
  trustProxy: boolean;
  /** Keys the cache of verified Basic credentials (never stored in the clear). */
  secret: string | Uint8Array;
  /** How long verified Basic credentials are trusted without argon2 again. Default 60 s. */
  basicCacheMs?: number;
  now?: () => number;
}

export interface Authenticator {
  /** Who sends the request, or undefined; throws the 401/403/429 problems. */
  resolve(c: Context<ApiEnv>): Promise<Authenticated | undefined>;
  /** Forgets cached Basic credentials of a user (password change, deletion). */
  forgetUser(userId: string): void;
}

/** Entries of the Basic credentials cache; the oldest go first beyond this. */
const BASIC_CACHE_SIZE = 10_000;

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The client's address, for rate limits: the socket's peer, or with `trustProxy` the last
 * address in X-Forwarded-For — the one the proxy in front appended; whatever comes before it
 * the client wrote itself.
 */
export function clientAddress(c: Context<ApiEnv>, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = c.req.header('x-forwarded-for')?.split(',').at(-1)?.trim();
    if (forwarded !== undefined && isIP(forwarded) !== 0) return forwarded;
  }
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown'; // in-process requests (tests) have no socket
  }
}

/** Sends the credentials challenge only to API clients; see the note on CSRF in csrfGuard. */
export const BASIC_CHALLENGE = 'Basic realm="eventloom", charset="UTF-8"';

/**
 * Verifies a username and password under the login rate limit: 429 with Retry-After while
 * the limit is reached, 401 for wrong credentials.
 */
export async function verifyLogin(
  options: Pick<AuthenticatorOptions, 'accounts' | 'limiter' | 'trustProxy'>,
  c: Context<ApiEnv>,
  username: string,
  password: string,
  challenge: boolean,
): Promise<Authenticated['actor']> {
  const address = clientAddress(c, options.trustProxy);
  const decision = options.limiter.begin(address, username);
  if (!decision.allowed) {
    throw new HttpProblem('rate-limited', {
      detail: `Too many failed logins for this username from your address; try again in ${decision.retryAfterSeconds} s`,
      headers: { 'retry-after': String(decision.retryAfterSeconds) },
      extensions: { retry_after_seconds: decision.retryAfterSeconds },
    });
  }
  const account = await options.accounts.authenticate(username, password);
  if (account === undefined) {
    throw new HttpProblem('invalid-credentials', {
      detail: 'The username or password is wrong',
      headers: challenge ? { 'www-authenticate': BASIC_CHALLENGE } : {},
    });
  }
  options.limiter.succeeded(address, username);
  return options.accounts.actorOf(account);
}

function parseBasic(header: string): { username: string; password: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header);
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * Resolves who sends a request: HTTP Basic credentials (API clients) or the session cookie
 * (browsers). A cookie-authenticated unsafe request must carry the session's CSRF token in
 * `x-csrf-token`; Basic credentials cannot be sent by another site's page without the
 * user's knowledge once cross-origin requests are refused (see csrfGuard).
 */
export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const { accounts, sessions, cookieName } = options;
  const now = options.now ?? Date.now;
  const cacheMs = options.basicCacheMs ?? 60_000;
  // API clients send Basic credentials on every request, and argon2 is slow on purpose:
  // verified credentials are remembered (by their HMAC) for a minute, and concurrent
  // requests with the same credentials share one verification — so a client's burst neither
  // pays argon2 per request nor trips the login rate limit, while guesses still do.
  const verified = new Map<string, { userId: string; expiresAt: number }>();
  const pending = new Map<string, Promise<Authenticated['actor']>>();
  // Imported once: a key given as a string would be converted on every request.
  const cacheKey = createSecretKey(
    typeof options.secret === 'string' ? Buffer.from(options.secret, 'utf8') : options.secret,
  );
  const keyOf = (username: string, password: string): string =>
    createHmac('sha256', cacheKey)
      .update(`basic\u0000${username.toLowerCase()}\u0000${password}`)
      .digest('base64url');

  async function basic(
    c: Context<ApiEnv>,
    username: string,
    password: string,
  ): Promise<Authenticated> {
    const key = keyOf(username, password);
    const hit = verified.get(key);
    if (hit !== undefined && hit.expiresAt > now()) {
      const account = await accounts.get(hit.userId);
      if (account !== undefined) return { actor: accounts.actorOf(account), via: 'basic' };
    }
    verified.delete(key);
    let verifying = pending.get(key);
    if (verifying === undefined) {
      verifying = verifyLogin(options, c, username, password, true).finally(() =>
        pending.delete(key),
      );
      pending.set(key, verifying);
    }
    const actor = await verifying;
    if (verified.size >= BASIC_CACHE_SIZE) verified.delete(verified.keys().next().value as string);
    verified.set(key, { userId: actor.userId, expiresAt: now() + cacheMs });
    return { actor, via: 'basic' };
  }

  return {
    forgetUser(userId) {
      for (const [key, entry] of verified) if (entry.userId === userId) verified.delete(key);
    },
    async resolve(c) {
      const authorization = c.req.header('authorization');
      if (authorization !== undefined) {
        const credentials = parseBasic(authorization);
        if (credentials === undefined) {
          throw new HttpProblem('unauthorized', {
            detail:
              'The Authorization header must be HTTP Basic credentials (Basic base64(username:password)); browsers use the session cookie from POST /api/session',
            headers: { 'www-authenticate': BASIC_CHALLENGE },
          });
        }
        return basic(c, credentials.username, credentials.password);
      }
      const sessionId = getCookie(c, cookieName);
      if (sessionId === undefined) return undefined;
      const session = await sessions.get(sessionId);
      if (session === undefined) return undefined;
      const account = await accounts.get(session.userId);
      if (account === undefined) {
        await sessions.delete(sessionId);
        return undefined;
      }
      if (
        !SAFE_METHODS.has(c.req.method) &&
        !sessions.verifyCsrfToken(sessionId, c.req.header('x-csrf-token'))
      ) {
        throw new HttpProblem('csrf-failed', {
          detail:
            "A request authenticated by the session cookie must send the session's CSRF token in the x-csrf-token header (GET /api/session returns it)",
        });
      }
      return { actor: accounts.actorOf(account), via: 'session', sessionId };
    },
  };
}
