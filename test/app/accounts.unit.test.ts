import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createAccounts,
  createCredentialStore,
  createUniqueValues,
  rejectionOf,
  type Accounts,
} from '../../src/app/index.js';
import {
  createMemoryDocuments,
  createMemoryEventStore,
  isConcurrencyError,
  type MemoryEventStore,
} from '../../src/core/index.js';
import { testHasher } from '../server/serverHarness.js';

let store: MemoryEventStore;
let accounts: Accounts;
const input = (username: string, email = `${username}@example.com`) => ({
  username,
  email,
  name: username,
  password: 'password-123',
});

beforeEach(() => {
  store = createMemoryEventStore();
  accounts = createAccounts({
    store,
    credentials: createCredentialStore(createMemoryDocuments().async),
    hasher: testHasher(),
    admins: ['Root'],
  });
});
afterEach(async () => {
  await store.close();
});

describe('accounts', () => {
  it('registers and authenticates a user, any case of the username, admins by name', async () => {
    const { value } = await accounts.register(input('Ada'));
    expect(await accounts.authenticate('ada', 'password-123')).toMatchObject({
      id: value.id,
      username: 'Ada',
      role: 'user',
    });
    expect(await accounts.authenticate('ada', 'wrong')).toBeUndefined();
    expect(await accounts.authenticate('nobody', 'password-123')).toBeUndefined();
    await accounts.register(input('root'));
    expect((await accounts.authenticate('root', 'password-123'))?.role).toBe('admin');
  });

  it('claims usernames and emails in their own streams, emails under a digest only', async () => {
    await accounts.register(input('ada', 'Ada@Example.com'));
    const streams = new Set((await store.readAll()).map((e) => e.streamId));
    expect([...streams].some((s) => s === 'username-ada')).toBe(true);
    const email = [...streams].find((s) => s.startsWith('email-'));
    expect(email).toMatch(/^email-[0-9a-f]{32}$/);
    expect(JSON.stringify(await store.readAll())).not.toContain('password-123');
  });

  it('lets exactly one of many concurrent registrations of a username through', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => accounts.register(input('same', `s${i}@example.com`))),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) {
      if (r.status === 'rejected') expect(rejectionOf(r.reason)?.reason).toBe('username_taken');
    }
    // every loser gave its email back: only the winner's is still taken
    const emails = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        accounts.register(input(`x${i}`, `s${i}@example.com`)).then(
          () => 'ok',
          (e: unknown) => rejectionOf(e)?.reason,
        ),
      ),
    );
    expect(emails.filter((e) => e === 'email_taken')).toHaveLength(1);
  });

  it('rejects a password change whose account changed after it was loaded', async () => {
    const { value } = await accounts.register(input('ada'));
    const actor = accounts.actorOf(value);
    const results = await Promise.allSettled([
      accounts.changePassword(actor, value.id, { current: 'password-123', next: 'first-new-pass' }),
      accounts.changePassword(actor, value.id, {
        current: 'password-123',
        next: 'second-new-pass',
      }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const failure = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(isConcurrencyError(failure.reason)).toBe(true);
  });

  it('takes over a claim whose owner never finished registering, once it is stale', async () => {
    let now = Date.now();
    const usernames = createUniqueValues({
      store,
      category: 'username',
      keyOf: (u) => u.toLowerCase(),
      takenReason: 'username_taken',
      field: 'username',
      isOwnerActive: async (owner) => owner === 'alive',
      staleAfterMs: 1000,
      now: () => now,
    });
    await usernames.claim('ghost', 'crashed-process');
    await expect(usernames.claim('ghost', 'newcomer')).rejects.toSatisfy(
      (e) => rejectionOf(e)?.reason === 'username_taken',
    );
    now += 5000;
    await usernames.claim('ghost', 'newcomer');
    expect(await usernames.ownerOf('ghost')).toBe('newcomer');
    await usernames.claim('kept', 'alive');
    now += 5000;
    await expect(usernames.claim('kept', 'newcomer')).rejects.toSatisfy(
      (e) => rejectionOf(e)?.reason === 'username_taken',
    );
  });
});
