import { deleteCookie } from 'hono/cookie';
import { type Account, isEntityId, maySeePersonalData } from '../app/index.js';
import {
  RegisterUserBody,
  UpdateUserBody,
  UserCreated,
  UserDetails,
  UserList,
  UserParams,
  ListQuery,
} from './apiSchemas.js';
import {
  afterWrite,
  etagOf,
  IF_MATCH as IF_MATCH_PATTERN,
  readModelsAt,
  writeOptionsOf,
} from './httpHelpers.js';
import { HttpProblem } from './problem.js';
import type { RouteDeps } from './routeDeps.js';
import { toApiUser } from './wireFormat.js';

const IF_MATCH = {
  name: 'If-Match',
  description: 'The ETag you read: a changed account answers 412 instead of being overwritten',
  pattern: IF_MATCH_PATTERN,
};

/** `/api/v1/users`: the source material's user resource. */
export function registerAccountRoutes({
  forgetCredentials,
  router,
  app,
  sessions,
  cookie,
  readYourWritesMs,
}: RouteDeps): void {
  const { accounts, queries } = app;

  /** A user by id or username; 404 when there is none. */
  async function findAccount(idOrName: string): Promise<Account> {
    const id = isEntityId(idOrName) ? idOrName : await accounts.idOf(idOrName);
    const account = id === undefined ? undefined : await accounts.get(id);
    if (account === undefined) {
      throw new HttpProblem('not-found', { detail: `There is no user ${idOrName}` });
    }
    return account;
  }

  router.route(
    {
      method: 'get',
      path: '/api/v1/users',
      operationId: 'listUsers',
      summary: 'List users',
      description: 'Emails are shown to admins (and each user sees their own).',
      tags: ['users'],
      auth: 'optional',
      query: ListQuery,
      responses: { 200: { description: 'The users', schema: UserList } },
    },
    async (c, { query, actor }) => {
      await readModelsAt(app, query.min_position);
      const users = await queries.users({ limit: query.limit ?? 1000 });
      // Emails are not in the read model: those this caller may see come from the accounts.
      const listed = await Promise.all(
        users.map(async (u) => {
          if (!maySeePersonalData(actor, u.id)) return toApiUser(u, false);
          return toApiUser((await accounts.get(u.id)) ?? u, true);
        }),
      );
      return c.json({ user_list: listed });
    },
  );

  router.route(
    {
      method: 'post',
      path: '/api/v1/users',
      operationId: 'registerUser',
      summary: 'Register a user',
      description:
        'Usernames and emails are unique (case-insensitive); two concurrent registrations of one username cannot both succeed.',
      tags: ['users'],
      auth: 'none',
      body: RegisterUserBody,
      responses: {
        201: {
          description: 'Registered',
          schema: UserCreated,
          headers: { Location: 'The user', ETag: 'Its version' },
        },
        409: { description: 'The username or the email is taken (`reason` says which)' },
      },
    },
    async (c, { body }) => {
      const result = await accounts.register(body, writeOptionsOf(c, undefined));
      const headers = await afterWrite(c, app, result, readYourWritesMs);
      return c.json({ user: toApiUser(result.value, true) }, 201, {
        ...headers,
        location: `/api/v1/users/${result.value.id}`,
      });
    },
  );

  router.route(
    {
      method: 'get',
      path: '/api/v1/users/:id',
      operationId: 'getUser',
      summary: 'Get a user by id or username',
      tags: ['users'],
      auth: 'optional',
      params: UserParams,
      responses: {
        200: { description: 'The user', schema: UserDetails, headers: { ETag: 'Its version' } },
        404: { description: 'No such user' },
      },
    },
    async (c, { params, actor }) => {
      const account = await findAccount(params.id);
      const own = actor !== undefined && (actor.role === 'admin' || actor.userId === account.id);
      return c.json({ user_details: [toApiUser(account, own)] }, 200, {
        etag: etagOf(account.version),
      });
    },
  );

  router.route(
    {
      method: 'put',
      path: '/api/v1/users/:id',
      operationId: 'updateUser',
      summary: 'Update a user (name, email, password)',
      description:
        'Your own account (admins: any). A password change needs `current_password` and ends your other sessions. All changes are one atomic event append.',
      tags: ['users'],
      auth: 'required',
      params: UserParams,
      body: UpdateUserBody,
      headers: [IF_MATCH],
      responses: {
        200: { description: 'Updated', schema: UserCreated, headers: { ETag: 'The new version' } },
        403: { description: 'Not your account, or a wrong current_password' },
        404: { description: 'No such user' },
        409: { description: 'The email is taken, or the account changed concurrently' },
        412: { description: 'If-Match does not match the account\u2019s version' },
      },
    },
    async (c, { params, body, actor, auth }) => {
      const target = await findAccount(params.id);
      const result = await accounts.update(
        actor,
        target.id,
        {
          ...(body.name !== undefined ? { name: body.name } : {}),
          ...(body.email !== undefined ? { email: body.email } : {}),
          ...(body.password !== undefined
            ? { password: { current: body.current_password ?? '', next: body.password } }
            : {}),
        },
        writeOptionsOf(c, actor),
      );
      if (body.password !== undefined) {
        forgetCredentials(target.id);
        // Every other session ends (a stolen one among them); the one that made the change stays.
        await sessions.deleteForUser(
          target.id,
          target.id === actor.userId ? auth.sessionId : undefined,
        );
      }
      const headers = await afterWrite(c, app, result, readYourWritesMs);
      return c.json({ user: toApiUser(result.value, true) }, 200, headers);
    },
  );

  router.route(
    {
      method: 'delete',
      path: '/api/v1/users/:id',
      operationId: 'deleteUser',
      summary: 'Delete a user',
      description:
        'Your own account (admins: any). Frees the username and email, deletes the password hash and every session, and erases the person: their username, email and name read `[erased]` in every event, topic and read model from then on.',
      tags: ['users'],
      auth: 'required',
      params: UserParams,
      headers: [IF_MATCH],
      responses: {
        204: { description: 'Deleted' },
        403: { description: 'Not your account' },
        404: { description: 'No such user' },
        409: { description: 'The account changed concurrently' },
        412: { description: 'If-Match does not match the account\u2019s version' },
      },
    },
    async (c, { params, actor }) => {
      // A retried deletion whose erasure failed the first time finishes it (then 404s).
      if (isEntityId(params.id)) await accounts.finishErasure(actor, params.id);
      const target = await findAccount(params.id);
      const result = await accounts.delete(actor, target.id, writeOptionsOf(c, actor));
      await sessions.deleteForUser(target.id);
      forgetCredentials(target.id);
      if (target.id === actor.userId)
        deleteCookie(c, cookie.name, { path: '/', secure: cookie.secure });
      const headers = await afterWrite(c, app, result, readYourWritesMs);
      return c.body(null, 204, { 'x-eventloom-position': headers['x-eventloom-position'] ?? '' });
    },
  );
}
