import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { ApiEnv } from './apiEnv.js';
import { LoginBody, SessionInfo } from './apiSchemas.js';
import { verifyLogin } from './authentication.js';
import type { RouteDeps } from './routeDeps.js';

/** `/api/session`: log in (cookie), who am I (with the CSRF token), log out. */
export function registerSessionRoutes(deps: RouteDeps): void {
  const { router, app, sessions, cookie } = deps;
  const clear = (c: Context<ApiEnv>) =>
    deleteCookie(c, cookie.name, { path: '/', secure: cookie.secure });

  router.route(
    {
      method: 'post',
      path: '/api/session',
      operationId: 'logIn',
      summary: 'Log in',
      description:
        'Sets an httpOnly, SameSite=Lax session cookie and answers the CSRF token to send as `x-csrf-token` on unsafe requests. Failed attempts slow down the client address (per username, and across usernames) with a doubling back-off: 429 with Retry-After.',
      tags: ['session'],
      auth: 'none',
      body: LoginBody,
      responses: {
        200: { description: 'Logged in', schema: SessionInfo },
        401: { description: 'Wrong username or password' },
        429: { description: 'Too many failed attempts; see Retry-After' },
      },
    },
    async (c, { body }) => {
      const actor = await verifyLogin(
        { accounts: app.accounts, limiter: deps.limiter, trustProxy: deps.trustProxy },
        c,
        body.username,
        body.password,
        false,
      );
      // A new id on every login: a session id planted before login is worth nothing.
      const previous = getCookie(c, cookie.name);
      if (previous !== undefined) await sessions.delete(previous);
      const session = await sessions.create(actor.userId);
      setCookie(c, cookie.name, session.id, {
        httpOnly: true,
        sameSite: 'Lax',
        secure: cookie.secure,
        path: '/',
        maxAge: cookie.maxAgeSeconds,
      });
      return c.json({
        authenticated: true,
        via: 'session',
        user: { id: actor.userId, username: actor.username, role: actor.role },
        csrf_token: sessions.csrfToken(session.id),
        expires_at: session.expiresAt,
      });
    },
  );

  router.route(
    {
      method: 'get',
      path: '/api/session',
      operationId: 'whoAmI',
      summary: 'Who am I',
      description: 'Answers 200 with `authenticated: false` when nobody is logged in.',
      tags: ['session'],
      auth: 'optional',
      responses: { 200: { description: 'The current user, if any', schema: SessionInfo } },
    },
    async (c, { auth }) => {
      c.header('cache-control', 'no-store');
      if (auth === undefined) {
        if (getCookie(c, cookie.name) !== undefined) clear(c);
        return c.json({ authenticated: false });
      }
      const { actor } = auth;
      const session = auth.sessionId === undefined ? undefined : await sessions.get(auth.sessionId);
      return c.json({
        authenticated: true,
        via: auth.via,
        user: { id: actor.userId, username: actor.username, role: actor.role },
        ...(session !== undefined
          ? { csrf_token: sessions.csrfToken(session.id), expires_at: session.expiresAt }
          : {}),
      });
    },
  );

  router.route(
    {
      method: 'delete',
      path: '/api/session',
      operationId: 'logOut',
      summary: 'Log out',
      description: 'Ends the session (send `x-csrf-token`) and clears the cookie.',
      tags: ['session'],
      auth: 'required',
      responses: { 204: { description: 'Logged out' } },
    },
    async (c, { auth }) => {
      if (auth.sessionId !== undefined) await sessions.delete(auth.sessionId);
      clear(c);
      return c.body(null, 204);
    },
  );
}
