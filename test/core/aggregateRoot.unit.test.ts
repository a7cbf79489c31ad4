import { describe, expect, it, vi } from 'vitest';
import { AggregateRoot, createAggregateRepository } from '../../src/core/aggregateRoot.js';
import type { SnapshotErrorContext } from '../../src/core/commandHandler.js';
import {
  CommandRejectedError,
  isCommandRejectedError,
  isConcurrencyError,
  isNotFoundError,
  isValidationError,
  type ConcurrencyError,
  type NotFoundError,
} from '../../src/core/errors.js';
import { createMemoryEventStore } from '../../src/core/memoryEventStore.js';
import { createMemorySnapshotStore } from '../../src/core/memorySnapshotStore.js';
import type { EventStore } from '../../src/core/types.js';

// Events carry a password *hash* placeholder, never a password: events are forever and
// travel to projections, buses and logs.
type UserEvent =
  | { type: 'UserRegistered'; data: { username: string; email: string; passwordHash: string } }
  | { type: 'PasswordChanged'; data: { passwordHash: string } };

class User extends AggregateRoot<UserEvent> {
  username = '';
  email = '';
  passwordHash = '';
  passwordChanges = 0;

  get registered(): boolean {
    return this.username !== '';
  }

  register(username: string, email: string, passwordHash: string): void {
    if (this.registered) throw new CommandRejectedError(`User '${this.id}' is already registered`);
    this.raise({ type: 'UserRegistered', data: { username, email, passwordHash } });
  }

  changePassword(passwordHash: string): void {
    if (!this.registered) throw new CommandRejectedError(`User '${this.id}' is not registered`);
    if (passwordHash === this.passwordHash) {
      throw new CommandRejectedError('The new password must differ from the current one');
    }
    this.raise({ type: 'PasswordChanged', data: { passwordHash } });
  }

  protected override apply(event: UserEvent): void {
    switch (event.type) {
      case 'UserRegistered':
        this.username = event.data.username;
        this.email = event.data.email;
        this.passwordHash = event.data.passwordHash;
        break;
      case 'PasswordChanged':
        this.passwordHash = event.data.passwordHash;
        this.passwordChanges++;
        break;
    }
  }
}

const hash = (n: number): string => `argon2id$placeholder-hash-${n}`;
const fast = { initialDelayMs: 1, maxDelayMs: 2 };

function usersOn(
  store: EventStore,
  extra: Partial<Parameters<typeof createAggregateRepository<User>>[0]> = {},
) {
  return createAggregateRepository<User>({
    store,
    streamId: (id) => `user-${id}`,
    create: (id) => new User(id),
    retry: fast,
    ...extra,
  });
}

async function catchError(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

describe('AggregateRoot', () => {
  it('applies a raised event at once and keeps it as uncommitted until committed', () => {
    const user = new User('42');
    user.register('ada', 'ada@example.org', hash(1));

    expect(user.username).toBe('ada');
    expect(user.version).toBe(0);
    expect(user.uncommittedEvents).toEqual([
      {
        type: 'UserRegistered',
        data: { username: 'ada', email: 'ada@example.org', passwordHash: hash(1) },
      },
    ]);

    user.markCommitted();
    expect(user.uncommittedEvents).toEqual([]);
    expect(user.version).toBe(1);
  });

  it('records nothing when a rule refuses the change', () => {
    const user = new User('42');
    user.register('ada', 'ada@example.org', hash(1));
    expect(() => user.changePassword(hash(1))).toThrow(CommandRejectedError);
    expect(user.uncommittedEvents).toHaveLength(1);
  });

  it('does not let callers change the uncommitted events through the getter', () => {
    const user = new User('42');
    user.register('ada', 'ada@example.org', hash(1));
    (user.uncommittedEvents as UserEvent[]).length = 0;
    expect(user.uncommittedEvents).toHaveLength(1);
  });

  it('rehydrates from history without uncommitted events, at the last event version', async () => {
    const store = createMemoryEventStore();
    await store.appendToStream('user-42', [
      {
        type: 'UserRegistered',
        data: { username: 'ada', email: 'a@x.org', passwordHash: hash(1) },
      },
      { type: 'PasswordChanged', data: { passwordHash: hash(2) } },
    ]);

    const user = AggregateRoot.rehydrate(new User('42'), await store.readStream('user-42'));

    expect(user.version).toBe(2);
    expect(user.passwordHash).toBe(hash(2));
    expect(user.uncommittedEvents).toEqual([]);
  });

  it('refuses to load history twice or on top of uncommitted events', async () => {
    const store = createMemoryEventStore();
    await store.appendToStream('user-42', [
      {
        type: 'UserRegistered',
        data: { username: 'ada', email: 'a@x.org', passwordHash: hash(1) },
      },
    ]);
    const history = await store.readStream('user-42');
    const user = new User('42').loadFromHistory(history as UserEvent[]);
    expect(() => user.loadFromHistory(history as UserEvent[])).toThrow(/loaded twice/);

    const fresh = new User('43');
    fresh.register('bob', 'b@x.org', hash(1));
    let error: unknown;
    try {
      fresh.loadFromHistory(history as UserEvent[]);
    } catch (e) {
      error = e;
    }
    expect(isValidationError(error)).toBe(true);
  });
});

describe('createAggregateRepository', () => {
  it('answers STREAM_NOT_FOUND for an aggregate that was never saved', async () => {
    const users = usersOn(createMemoryEventStore());

    const error = await catchError(users.load('nobody'));

    expect(isNotFoundError(error)).toBe(true);
    expect((error as NotFoundError).code).toBe('STREAM_NOT_FOUND');
    expect((error as Error).message).toContain("stream 'user-nobody'");
  });

  it('creates a new aggregate at version 0 with loadOrCreate', async () => {
    const users = usersOn(createMemoryEventStore());
    const user = await users.loadOrCreate('42');
    expect(user.version).toBe(0);
    expect(user.registered).toBe(false);
  });

  it('saves the uncommitted events and loads them back', async () => {
    const store = createMemoryEventStore();
    const users = usersOn(store);
    const user = await users.loadOrCreate('42');
    user.register('ada', 'ada@example.org', hash(1));

    const saved = await users.save(user, { metadata: { correlationId: 'signup-1' } });

    expect(saved).toEqual({ nextExpectedVersion: 1, lastPosition: 1, appended: 1 });
    expect(user.version).toBe(1);
    expect(user.uncommittedEvents).toEqual([]);
    const [event] = await store.readStream('user-42');
    expect(event?.data).toEqual({
      username: 'ada',
      email: 'ada@example.org',
      passwordHash: hash(1),
    });
    expect(event?.metadata).toEqual({ correlationId: 'signup-1' });
    const loaded = await users.load('42');
    expect(loaded).toMatchObject({ username: 'ada', version: 1 });
  });

  it('treats a save with nothing uncommitted as a no-op', async () => {
    const store = createMemoryEventStore();
    const users = usersOn(store);
    await users.update('42', (u) => u.register('ada', 'a@x.org', hash(1)), {
      createIfMissing: true,
    });
    const user = await users.load('42');
    expect(await users.save(user)).toEqual({
      nextExpectedVersion: 1,
      lastPosition: 1,
      appended: 0,
    });
    expect(await store.headPosition()).toBe(1);
  });

  it('rejects the save of an aggregate changed concurrently since it was loaded', async () => {
    const store = createMemoryEventStore();
    const users = usersOn(store);
    await users.update('42', (u) => u.register('ada', 'a@x.org', hash(1)), {
      createIfMissing: true,
    });
    const inBrowserA = await users.load('42');
    const inBrowserB = await users.load('42');

    inBrowserA.changePassword(hash(2));
    await users.save(inBrowserA);
    inBrowserB.changePassword(hash(3));
    const error = await catchError(users.save(inBrowserB));

    expect(isConcurrencyError(error)).toBe(true);
    expect((error as ConcurrencyError).expectedVersion).toBe(1);
    expect((error as ConcurrencyError).actualVersion).toBe(2);
    expect(inBrowserB.uncommittedEvents).toHaveLength(1);
    expect((await users.load('42')).passwordHash).toBe(hash(2));
  });

  it('rejects registering the same new aggregate twice from two places', async () => {
    const users = usersOn(createMemoryEventStore());
    const a = await users.loadOrCreate('42');
    const b = await users.loadOrCreate('42');
    a.register('ada', 'a@x.org', hash(1));
    b.register('ada2', 'b@x.org', hash(2));
    await users.save(a);
    expect(isConcurrencyError(await catchError(users.save(b)))).toBe(true);
  });

  describe('reserved metadata', () => {
    it('refuses idempotencyKey in save metadata and ignores it on events appended directly', async () => {
      const store = createMemoryEventStore();
      const users = usersOn(store);
      const refused = await users
        .update('8', (u) => u.register('cy', 'c@x.org', hash(1)), {
          createIfMissing: true,
          metadata: { idempotencyKey: 'r-1' },
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(isValidationError(refused)).toBe(true);
      expect(refused).toMatchObject({ path: 'options.metadata.idempotencyKey' });

      await store.appendToStream('user-8', [
        {
          type: 'UserRegistered',
          data: { username: 'cy', email: 'c@x.org', passwordHash: hash(1) },
          metadata: { idempotencyKey: 'r-2' },
        },
      ]);
      const result = await users.update('8', (u) => u.changePassword(hash(2)), {
        idempotencyKey: 'r-2',
      });
      expect(result).toMatchObject({ idempotentReplay: false, appended: 1 });
      const again = await users.update('8', (u) => u.changePassword(hash(3)), {
        idempotencyKey: 'r-2',
      });
      expect(again).toMatchObject({ idempotentReplay: true, appended: 0 });
    });
  });

  describe('after a soft delete', () => {
    it('update expects the version the stream kept, like the store does', async () => {
      const store = createMemoryEventStore();
      const users = usersOn(store);
      await users.update('7', (u) => u.register('bo', 'b@x.org', hash(1)), {
        createIfMissing: true,
      });
      await users.update('7', (u) => u.changePassword(hash(2)));
      await store.deleteStream('user-7');
      const register = (u: User): void => u.register('bo', 'b@x.org', hash(3));

      const stale = await users
        .update('7', register, { createIfMissing: true, expectedVersion: 0 })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(isConcurrencyError(stale)).toBe(true);
      expect(stale).toMatchObject({ expectedVersion: 0, actualVersion: 2 });

      const result = await users.update('7', register, {
        createIfMissing: true,
        expectedVersion: 2,
      });
      expect(result).toMatchObject({ nextExpectedVersion: 3, appended: 1 });
      expect(result.aggregate.version).toBe(3);
      expect((await users.load('7')).passwordHash).toBe(hash(3));
    });
  });

  describe('update', () => {
    it('loads, changes and saves in one call', async () => {
      const users = usersOn(createMemoryEventStore());
      await users.update('42', (u) => u.register('ada', 'a@x.org', hash(1)), {
        createIfMissing: true,
      });

      const result = await users.update('42', (u) => u.changePassword(hash(2)));

      expect(result).toMatchObject({
        nextExpectedVersion: 2,
        appended: 1,
        idempotentReplay: false,
      });
      expect(result.aggregate.passwordHash).toBe(hash(2));
    });

    it('answers STREAM_NOT_FOUND unless asked to create the aggregate', async () => {
      const users = usersOn(createMemoryEventStore());
      const error = await catchError(users.update('42', (u) => u.changePassword(hash(2))));
      expect(isNotFoundError(error)).toBe(true);
    });

    it('lets a business rule refusal through without retrying', async () => {
      const users = usersOn(createMemoryEventStore());
      const change = vi.fn((u: User) => u.changePassword(hash(2)));
      const error = await catchError(users.update('42', change, { createIfMissing: true }));
      expect(isCommandRejectedError(error)).toBe(true);
      expect(change).toHaveBeenCalledTimes(1);
    });

    it('starts over with fresh state when another writer got there first', async () => {
      const store = createMemoryEventStore();
      const users = usersOn(store);
      await users.update('42', (u) => u.register('ada', 'a@x.org', hash(1)), {
        createIfMissing: true,
      });
      const seen: number[] = [];

      const result = await users.update('42', async (user) => {
        seen.push(user.version);
        if (seen.length === 1) {
          // Someone else changes the password between our load and our save.
          await users.update('42', (other) => other.changePassword(hash(7)));
        }
        user.changePassword(hash(8));
      });

      expect(seen).toEqual([1, 2]);
      expect(result.nextExpectedVersion).toBe(3);
      expect(result.aggregate.passwordChanges).toBe(2);
      expect((await store.readStream('user-42')).map((e) => e.type)).toEqual([
        'UserRegistered',
        'PasswordChanged',
        'PasswordChanged',
      ]);
    });

    it('rethrows the ConcurrencyError once maxAttempts are used up', async () => {
      const store = createMemoryEventStore();
      const users = usersOn(store, { retry: { ...fast, maxAttempts: 2 } });
      await users.update('42', (u) => u.register('ada', 'a@x.org', hash(1)), {
        createIfMissing: true,
      });
      let runs = 0;

      const error = await catchError(
        users.update('42', async (user) => {
          runs++;
          await store.appendToStream('user-42', [
            { type: 'PasswordChanged', data: { passwordHash: hash(100 + runs) } },
          ]);
          user.changePassword(hash(9));
        }),
      );

      expect(isConcurrencyError(error)).toBe(true);
      expect(runs).toBe(2);
    });

    it("checks the caller's expectedVersion before running the change and never retries it", async () => {
      const users = usersOn(createMemoryEventStore());
      await users.update('42', (u) => u.register('ada', 'a@x.org', hash(1)), {
        createIfMissing: true,
      });
      await users.update('42', (u) => u.changePassword(hash(2)));
      const change = vi.fn((u: User) => u.changePassword(hash(3)));

      const error = await catchError(users.update('42', change, { expectedVersion: 1 }));

      expect(isConcurrencyError(error)).toBe(true);
      expect(change).not.toHaveBeenCalled();
    });

    it('runs an update sent twice with the same idempotency key only once', async () => {
      const store = createMemoryEventStore();
      const users = usersOn(store);
      await users.update('42', (u) => u.register('ada', 'a@x.org', hash(1)), {
        createIfMissing: true,
      });
      const change = vi.fn((u: User) => u.changePassword(hash(2)));

      const first = await users.update('42', change, { idempotencyKey: 'pw-req-1' });
      const again = await users.update('42', change, { idempotencyKey: 'pw-req-1' });

      expect(first.idempotentReplay).toBe(false);
      expect(again).toMatchObject({ idempotentReplay: true, appended: 0, nextExpectedVersion: 2 });
      expect(change).toHaveBeenCalledTimes(1);
      const events = await store.readStream('user-42');
      expect(events).toHaveLength(2);
      expect(events[1]?.metadata).toEqual({ idempotencyKey: 'pw-req-1' });
    });

    it('appends concurrent duplicates of a keyed update exactly once', async () => {
      const store = createMemoryEventStore();
      const users = usersOn(store);

      await Promise.all(
        Array.from({ length: 4 }, () =>
          users.update('42', (u) => u.register('ada', 'a@x.org', hash(1)), {
            createIfMissing: true,
            idempotencyKey: 'signup-1',
          }),
        ),
      );

      expect(await store.readStream('user-42')).toHaveLength(1);
    });
  });

  describe('snapshots', () => {
    interface UserSnapshot {
      username: string;
      email: string;
      passwordHash: string;
      passwordChanges: number;
    }
    const snapshotting = (
      store: EventStore,
      onSnapshotError?: (e: unknown, c: SnapshotErrorContext) => void,
    ) => {
      const snapshots = createMemorySnapshotStore();
      const users = createAggregateRepository<User, UserSnapshot>({
        store,
        streamId: (id) => `user-${id}`,
        create: (id) => new User(id),
        snapshots: {
          store: snapshots,
          every: 3,
          toSnapshot: (u) => ({
            username: u.username,
            email: u.email,
            passwordHash: u.passwordHash,
            passwordChanges: u.passwordChanges,
          }),
          fromSnapshot: (id, state) => Object.assign(new User(id), state),
          ...(onSnapshotError ? { onSnapshotError } : {}),
        },
      });
      return { users, snapshots };
    };

    it('snapshots every N versions and then loads only the tail of the stream', async () => {
      const store = createMemoryEventStore();
      const { users, snapshots } = snapshotting(store);
      await users.update('42', (u) => u.register('ada', 'a@x.org', hash(0)), {
        createIfMissing: true,
      });
      for (let i = 1; i <= 4; i++) await users.update('42', (u) => u.changePassword(hash(i)));
      expect((await snapshots.load('user-42'))?.version).toBe(3);
      const readStream = vi.spyOn(store, 'readStream');

      const user = await users.load('42');

      expect(readStream).toHaveBeenCalledTimes(1);
      expect(readStream).toHaveBeenCalledWith('user-42', { from: 3 });
      expect(user).toMatchObject({
        version: 5,
        passwordHash: hash(4),
        passwordChanges: 4,
        username: 'ada',
      });
    });

    it('reports and ignores a snapshot that no longer matches its stream', async () => {
      const store = createMemoryEventStore();
      const reports: SnapshotErrorContext[] = [];
      const { users } = snapshotting(store, (_e, c) => reports.push(c));
      await users.update('42', (u) => u.register('ada', 'a@x.org', hash(0)), {
        createIfMissing: true,
      });
      for (let i = 1; i <= 2; i++) await users.update('42', (u) => u.changePassword(hash(i)));
      await store.deleteStream('user-42');

      const error = await catchError(users.load('42'));

      expect(isNotFoundError(error)).toBe(true);
      expect(reports).toEqual([{ streamId: 'user-42', operation: 'load', version: 3 }]);
    });
  });
});
