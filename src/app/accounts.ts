import { createHmac, randomUUID } from 'node:crypto';
import { createCommandHandler, type EventStore, newEventId } from '../core/index.js';
import { type Actor, canActFor } from './actor.js';
import { USERNAME } from './accountRules.js';
import type { WriteOptions, WriteResult } from './commandOptions.js';
import type { CredentialStore } from './credentialStore.js';
import { loadAggregate, type LoadedAggregate } from './loadAggregate.js';
import type { PasswordHasher } from './passwordHasher.js';
import { rejected } from './rejection.js';
import { toUserStream } from './streamNames.js';
import { createUniqueValues } from './uniqueValues.js';
import { userDecider, type UserState } from './userDecider.js';

/** A user account as the app shows it (never with a password or hash). */
export interface Account {
  id: string;
  username: string;
  email: string;
  name: string;
  role: Actor['role'];
  /** Stream version: the account's ETag. */
  version: number;
  createdAt: string | undefined;
  updatedAt: string | undefined;
}

export interface Registration {
  username: string;
  email: string;
  name: string;
  password: string;
}

export interface AccountChanges {
  name?: string;
  email?: string;
  password?: { current: string; next: string };
}

export interface AccountsOptions {
  store: EventStore;
  credentials: CredentialStore;
  hasher: PasswordHasher;
  /**
   * HMAC key (the server secret) for the stream ids of username and email claims: without
   * it nobody can tell from a stream id whose address or username it is, nor test guesses.
   */
  claimKeySecret: string | Uint8Array;
  /** Erases the person's personal data when the account is deleted (crypto-shredding). */
  forget?: (userId: string) => Promise<unknown>;
  /** Usernames (any case) that get the admin role. */
  admins?: readonly string[];
  /** See `createUniqueValues`. Default 30 s. */
  staleClaimMs?: number;
  /** Told about a clean-up that failed (the app carries on; stale claims are taken over later). */
  onWarning?: (message: string, error: unknown) => void;
}

export interface Accounts {
  register(input: Registration, options?: WriteOptions): Promise<WriteResult<Account>>;
  /** The account for these credentials, or undefined (same timing for unknown users). */
  authenticate(username: string, password: string): Promise<Account | undefined>;
  /** An active account by id, or undefined. */
  get(userId: string): Promise<Account | undefined>;
  /** The id of the active account with this username (any case), or undefined. */
  idOf(username: string): Promise<string | undefined>;
  actorOf(account: Account): Actor;
  /**
   * Changes any of name, email and password in one atomic append. A password change needs
   * the current password. The loaded version is the expected version, so a concurrent
   * change of the account makes this fail with a ConcurrencyError instead of overwriting it.
   */
  update(
    actor: Actor,
    userId: string,
    changes: AccountChanges,
    options?: WriteOptions,
  ): Promise<WriteResult<Account>>;
  /** `update` with only a password change. */
  changePassword(
    actor: Actor,
    userId: string,
    passwords: { current: string; next: string },
    options?: WriteOptions,
  ): Promise<WriteResult<Account>>;
  /**
   * Deletes the account and forgets the person (see `AccountsOptions.forget`). Retrying the
   * deletion of an account whose erasure failed finishes the erasure, then says not found.
   */
  delete(actor: Actor, userId: string, options?: WriteOptions): Promise<WriteResult<null>>;
  /** Forgets a deleted account's person again if the actor may (forget is idempotent). */
  finishErasure(actor: Actor, userId: string): Promise<void>;
}

/** Whether a string can be a username at all (anything else names nobody). */
function isUsername(value: string): boolean {
  return (
    value.length >= USERNAME.min && value.length <= USERNAME.max && USERNAME.pattern.test(value)
  );
}

/**
 * The key of an email's claim stream: an HMAC with the server secret, so the stream id holds
 * nothing that a dictionary of addresses could be matched against.
 */
export function emailKey(email: string, secret: string | Uint8Array): string {
  return claimKey('email', email.trim().toLowerCase(), secret);
}

/** The key of a username's claim stream (any case), like {@link emailKey}. */
export function usernameKey(username: string, secret: string | Uint8Array): string {
  return claimKey('username', username.toLowerCase(), secret);
}

function claimKey(category: string, value: string, secret: string | Uint8Array): string {
  return createHmac('sha256', secret)
    .update(`eventloom-claim\u0000${category}\u0000${value}`)
    .digest('hex')
    .slice(0, 32);
}

/**
 * Accounts: register, authenticate, profile, password, delete. Usernames and emails are
 * unique through claim streams (see `createUniqueValues`); password hashes live in the
 * credential store, referenced from events by an opaque id.
 */
/** Accounts `get` remembers (the oldest go first beyond this). */
const ACTIVE_ACCOUNT_CACHE_SIZE = 10_000;

export function createAccounts(options: AccountsOptions): Accounts {
  const { store, credentials, hasher } = options;
  const admins = new Set((options.admins ?? []).map((a) => a.toLowerCase()));
  const warn = options.onWarning ?? (() => undefined);
  const handle = createCommandHandler({ store, decider: userDecider });
  const load = (userId: string): Promise<LoadedAggregate<UserState>> =>
    loadAggregate(store, toUserStream(userId), userDecider);
  const isActive = async (userId: string): Promise<boolean> =>
    (await load(userId)).state.status === 'active';
  const usernames = createUniqueValues({
    store,
    category: 'username',
    keyOf: (u) => usernameKey(u, options.claimKeySecret),
    takenReason: 'username_taken',
    field: 'username',
    isOwnerActive: isActive,
    staleAfterMs: options.staleClaimMs,
  });
  const emails = createUniqueValues({
    store,
    category: 'email',
    keyOf: (e) => emailKey(e, options.claimKeySecret),
    takenReason: 'email_taken',
    field: 'email',
    isOwnerActive: isActive,
    staleAfterMs: options.staleClaimMs,
  });
  let dummyHash: Promise<string> | undefined;
  /** Active accounts as last folded, by user id; each is current while its version is. */
  const activeAccounts = new Map<string, Account>();

  const roleOf = (username: string): Actor['role'] =>
    admins.has(username.toLowerCase()) ? 'admin' : 'user';
  const toAccount = (loaded: LoadedAggregate<UserState>): Account => ({
    id: loaded.state.userId,
    username: loaded.state.username,
    email: loaded.state.email,
    name: loaded.state.name,
    role: roleOf(loaded.state.username),
    version: loaded.version,
    createdAt: loaded.createdAt,
    updatedAt: loaded.updatedAt,
  });
  const undo = async (what: string, fn: () => Promise<void>): Promise<void> => {
    try {
      await fn();
    } catch (error) {
      warn(`could not ${what}; the claim will be taken over once stale`, error);
    }
  };

  /** Loads an active account the actor may change, checking the client's expected version. */
  async function loadForChange(
    actor: Actor,
    userId: string,
    expectedVersion: number | undefined,
  ): Promise<LoadedAggregate<UserState>> {
    if (!canActFor(actor, userId)) {
      throw rejected('forbidden', 'You may only change your own account');
    }
    const loaded = await load(userId);
    if (loaded.state.status !== 'active') {
      throw rejected('not_found', `User ${userId} does not exist`);
    }
    if (expectedVersion !== undefined && expectedVersion !== loaded.version) {
      throw rejected(
        'stale_version',
        `The account is at version ${loaded.version}, not ${expectedVersion}; reload it and retry`,
      );
    }
    return loaded;
  }

  const accounts: Accounts = {
    async finishErasure(actor, userId) {
      if (options.forget === undefined || !canActFor(actor, userId)) return;
      if ((await load(userId)).state.status === 'deleted') await options.forget(userId);
    },

    async register(input, writeOptions = {}) {
      const userId = newEventId();
      const hash = await hasher.hash(input.password);
      await usernames.claim(input.username, userId);
      try {
        await emails.claim(input.email, userId);
      } catch (error) {
        await undo('release a username claim', () => usernames.release(input.username, userId));
        throw error;
      }
      try {
        const credentialId = randomUUID();
        await credentials.save(credentialId, { userId, hash });
        const result = await handle(
          toUserStream(userId),
          {
            type: 'RegisterUser',
            userId,
            username: input.username,
            email: input.email.trim(),
            name: input.name,
            credentialId,
          },
          { expectedVersion: 'no_stream', metadata: writeOptions.metadata },
        );
        const now = new Date().toISOString();
        return {
          value: toAccount({
            state: result.state,
            version: result.nextExpectedVersion,
            position: result.lastPosition,
            createdAt: now,
            updatedAt: now,
          }),
          position: result.lastPosition,
          version: result.nextExpectedVersion,
          replayed: false,
        };
      } catch (error) {
        await undo('release an email claim', () => emails.release(input.email, userId));
        await undo('release a username claim', () => usernames.release(input.username, userId));
        throw error;
      }
    },

    async authenticate(username, password) {
      const userId = isUsername(username) ? await usernames.ownerOf(username) : undefined;
      const loaded = userId === undefined ? undefined : await load(userId);
      const hash =
        loaded?.state.status === 'active'
          ? await credentials.hashOf(loaded.state.credentialId)
          : undefined;
      if (loaded === undefined || hash === undefined) {
        // Spend the same time as a real check, so response times do not reveal usernames.
        dummyHash ??= hasher.hash(randomUUID());
        await hasher.verify(await dummyHash, password);
        return undefined;
      }
      return (await hasher.verify(hash, password)) ? toAccount(loaded) : undefined;
    },

    async get(userId) {
      // Every request with credentials asks this: the stream's version (one indexed read)
      // says whether the account folded last time is still the current one, so the
      // events are read and their personal fields decrypted only after a change.
      const streamId = toUserStream(userId);
      const cached = activeAccounts.get(userId);
      if (cached !== undefined) {
        const info = await store.streamInfo(streamId);
        if (info.exists && info.version === cached.version) return { ...cached };
        activeAccounts.delete(userId);
      }
      const loaded = await load(userId);
      if (loaded.state.status !== 'active') return undefined;
      const account = toAccount(loaded);
      if (activeAccounts.size >= ACTIVE_ACCOUNT_CACHE_SIZE) {
        activeAccounts.delete(activeAccounts.keys().next().value as string);
      }
      activeAccounts.set(userId, account);
      return { ...account };
    },

    async idOf(username) {
      if (!isUsername(username)) return undefined;
      const userId = await usernames.ownerOf(username);
      return userId !== undefined && (await isActive(userId)) ? userId : undefined;
    },

    actorOf: (account) => ({ userId: account.id, username: account.username, role: account.role }),

    async update(actor, userId, changes, writeOptions = {}) {
      const loaded = await loadForChange(actor, userId, writeOptions.expectedVersion);
      let credentialId: string | undefined;
      if (changes.password !== undefined) {
        const currentHash = await credentials.hashOf(loaded.state.credentialId);
        if (
          currentHash === undefined ||
          !(await hasher.verify(currentHash, changes.password.current))
        ) {
          throw rejected(
            'invalid_credentials',
            'The current password is wrong',
            'current_password',
          );
        }
        // Stored before the event that references it: a crash in between leaves an unused
        // hash, never an account whose password cannot be checked.
        credentialId = randomUUID();
        await credentials.save(credentialId, {
          userId,
          hash: await hasher.hash(changes.password.next),
        });
      }
      const oldEmail = loaded.state.email;
      const newEmail = changes.email?.trim();
      const emailMoves =
        newEmail !== undefined && emails.streamIdOf(newEmail) !== emails.streamIdOf(oldEmail);
      if (emailMoves) await emails.claim(newEmail, userId);
      let result;
      try {
        // The version loaded above, not a fresh one: a change that slipped in since then
        // (another password change, say) makes this append fail instead of silently winning.
        result = await handle(
          toUserStream(userId),
          { type: 'UpdateAccount', name: changes.name, email: newEmail, credentialId },
          { expectedVersion: loaded.version, metadata: writeOptions.metadata },
        );
      } catch (error) {
        if (emailMoves)
          await undo('release an email claim', () => emails.release(newEmail, userId));
        throw error;
      }
      if (emailMoves) await undo('release the old email', () => emails.release(oldEmail, userId));
      return {
        value: toAccount(await load(userId)),
        position: result.lastPosition,
        version: result.nextExpectedVersion,
        replayed: false,
      };
    },

    changePassword: (actor, userId, password, writeOptions) =>
      accounts.update(actor, userId, { password }, writeOptions),

    async delete(actor, userId, writeOptions = {}) {
      await accounts.finishErasure(actor, userId);
      const loaded = await loadForChange(actor, userId, writeOptions.expectedVersion);
      const result = await handle(
        toUserStream(userId),
        { type: 'DeleteUser' },
        { expectedVersion: loaded.version, metadata: writeOptions.metadata },
      );
      await undo('release the username', () => usernames.release(loaded.state.username, userId));
      await undo('release the email', () => emails.release(loaded.state.email, userId));
      await undo('delete the password hashes', () => credentials.deleteForUser(userId));
      // Last: the releases above need the username and email, which are unreadable afterwards.
      await options.forget?.(userId);
      return {
        value: null,
        position: result.lastPosition,
        version: result.nextExpectedVersion,
        replayed: false,
      };
    },
  };
  return accounts;
}
