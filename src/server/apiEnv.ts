import type { Actor } from '../app/index.js';

/** How a request proved who it is. */
export interface Authenticated {
  actor: Actor;
  via: 'session' | 'basic';
  /** The session id (cookie value), when `via` is `session`. */
  sessionId?: string;
}

/** Per-request values handlers and middleware share through Hono's context. */
export interface ApiEnv {
  Variables: {
    requestId: string;
    /** The route pattern that matched (metrics label); unset for unmatched requests. */
    route: string;
    /** Memoized authentication of the request (resolved on first use). */
    auth: Promise<Authenticated | undefined>;
  };
}
