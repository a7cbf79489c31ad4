import type { ReferenceApp } from '../app/index.js';
import type { ApiRouter } from './apiRouter.js';
import type { LoginRateLimiter } from './loginRateLimiter.js';
import type { SessionStore } from './sessionStore.js';

export interface CookieSettings {
  name: string;
  /** `Secure` (and the `__Host-` name prefix): on whenever the site is served over HTTPS. */
  secure: boolean;
  maxAgeSeconds: number;
}

/** What the route modules share. */
export interface RouteDeps {
  router: ApiRouter;
  app: ReferenceApp;
  sessions: SessionStore;
  limiter: LoginRateLimiter;
  cookie: CookieSettings;
  trustProxy: boolean;
  /** How long a write waits for the read models to include it (0: not at all). */
  readYourWritesMs: number;
  /** Drops cached Basic credentials of a user whose password changed or who was deleted. */
  forgetCredentials: (userId: string) => void;
}
