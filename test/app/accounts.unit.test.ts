import { createHash, createHmac } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  APP_PERSONAL_DATA,
  createAccounts,
  createCredentialStore,
  createUniqueValues,
  rejectionOf,
  type Accounts,
} from '../../src/app/index.js';
import {
  createCryptoShredder,
  createMemoryDocuments,
  createMemoryEventStore,
  createMemoryKeyStore,
  ERASED,
  isConcurrencyError,
  type MemoryEventStore,
  withCryptoShredding,
} from '../../src/core/index.js';
import { testHasher } from '../server/serverHarness.js';

let store: MemoryEventStore;
let accounts: Accounts;
const SECRET = 'server-secret-server-secret-server!';
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
    claimKeySecret: SECRET,
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

  it('answers get with the account as it is now, also after another instance on the same store changed or deleted it', async () => {
    const credentials = createCredentialStore(createMemoryDocuments().async);
    const other = createAccounts({
      store,
      credentials,
      hasher: testHasher(),
      claimKeySecret: SECRET,
    });
    const { value } = await other.register(input('ada'));
    const actor = { userId: value.id, username: 'ada', role: 'user' as const };
    expect(await accounts.get(value.id)).toMatchObject({ name: 'ada', version: 1 });
    // Asked again unchanged: the same answer, and a copy the caller may change.
    const again = await accounts.get(value.id);
    again!.name = 'changed by the caller';
    expect(await accounts.get(value.id)).toMatchObject({ name: 'ada', version: 1 });

    await other.update(actor, value.id, { name: 'Ada Lovelace' });
    expect(await accounts.get(value.id)).toMatchObject({ name: 'Ada Lovelace', version: 2 });
    await other.delete(actor, value.id);
    expect(await accounts.get(value.id)).toBeUndefined();
  });

  it('keys username and email claim streams by an HMAC with the server secret, not the value or a bare hash', async () => {
    await accounts.register(input('ada', 'Ada@Example.com'));
    const streams = [...new Set((await store.readAll()).map((e) => e.streamId))];
    const hmac = (text: string) =>
      createHmac('sha256', SECRET).update(text).digest('hex').slice(0, 32);
    expect(streams).toContain(`username-${hmac('eventloom-claim\u0000username\u0000ada')}`);
    expect(streams).toContain(`email-${hmac('eventloom-claim\u0000email\u0000ada@example.com')}`);
    const bare = createHash('sha256').update('ada@example.com').digest('hex').slice(0, 32);
    expect(streams.join(' ')).not.toContain(bare);
    expect(streams.join(' ').toLowerCase()).not.toContain('ada');
    expect(JSON.stringify(await store.readAll())).not.toContain('password-123');
  });

  it('forgets the person when their account is deleted: username, email and name read as erased', async () => {
    const shredding = withCryptoShredding(
      store,
      createCryptoShredder({
        personalData: APP_PERSONAL_DATA,
        keyStore: createMemoryKeyStore(),
        keyEncryptionKey: { bytes: new Uint8Array(32).fill(7) },
      }),
    );
    const erasing = createAccounts({
      store: shredding,
      credentials: createCredentialStore(createMemoryDocuments().async),
      hasher: testHasher(),
      claimKeySecret: SECRET,
      forget: (userId) => shredding.forget(userId),
    });
    const { value } = await erasing.register(input('ada', 'ada@example.com'));
    expect(JSON.stringify(await store.readAll())).not.toContain('ada@example.com');
    await erasing.delete({ userId: value.id, username: 'ada', role: 'user' }, value.id);
    const registered = (await shredding.readAll()).find((e) => e.type === 'UserRegistered');
    expect(registered?.data).toMatchObject({ username: ERASED, email: ERASED, name: ERASED });
    // The username and email are free again.
    await expect(erasing.register(input('ada', 'ada@example.com'))).resolves.toBeDefined();
  });

  it('finishes an erasure that failed when the deletion is retried', async () => {
    const forgotten: string[] = [];
    let failing = true;
    const erasing = createAccounts({
      store,
      credentials: createCredentialStore(createMemoryDocuments().async),
      hasher: testHasher(),
      claimKeySecret: SECRET,
      forget: async (userId) => {
        if (failing) throw new Error('key store unavailable');
        forgotten.push(userId);
      },
    });
    const { value } = await erasing.register(input('ada'));
    const ada = { userId: value.id, username: 'ada', role: 'user' as const };
    await expect(erasing.delete(ada, value.id)).rejects.toThrow('key store unavailable');
    failing = false;
    await expect(erasing.delete(ada, value.id)).rejects.toSatisfy(
      (e) => rejectionOf(e)?.reason === 'not_found',
    );
    expect(forgotten).toEqual([value.id]);
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
