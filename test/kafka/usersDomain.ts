// The source material's user-management events and the two read models its consumer services
// build from them, shared by the end-to-end test and its consumer process.
import type { DocumentStore } from '../../src/core/readModel.js';
import type { EventStore, Recorded } from '../../src/core/types.js';

export type UserEvent =
  | { type: 'UserCreated'; data: { username: string; email: string; name: string; role: string } }
  | { type: 'UserUpdated'; data: { email?: string; name?: string } }
  | { type: 'UserDeleted'; data: { reason: string } }
  | { type: 'UserLoggedIn'; data: { at: string } }
  | { type: 'UserRoleUpdated'; data: { role: string } };

interface DirectoryEntry extends Record<string, unknown> {
  username: string;
  email: string;
  name: string;
  role: string;
  logins: number;
  lastLoginAt: string | null;
}

/** Service 1, "user-directory": current users; a deleted user disappears. Counts logins. */
export async function applyDirectory(
  event: Recorded<UserEvent>,
  docs: DocumentStore,
): Promise<void> {
  const id = event.streamId;
  if (event.type === 'UserCreated') {
    await docs.put('users', id, { ...event.data, logins: 0, lastLoginAt: null });
    return;
  }
  const user = await docs.get<DirectoryEntry>('users', id);
  if (!user) return;
  switch (event.type) {
    case 'UserUpdated':
      await docs.put('users', id, { ...user, ...event.data });
      break;
    case 'UserDeleted':
      await docs.delete('users', id);
      break;
    case 'UserLoggedIn':
      await docs.put('users', id, { ...user, logins: user.logins + 1, lastLoginAt: event.data.at });
      break;
    case 'UserRoleUpdated':
      await docs.put('users', id, { ...user, role: event.data.role });
      break;
  }
}

interface ActivityEntry extends Record<string, unknown> {
  events: number;
  logins: number;
  roleChanges: number;
  active: boolean;
}

/** Service 2, "user-activity": per-user counters, kept after deletion. */
export async function applyActivity(
  event: Recorded<UserEvent>,
  docs: DocumentStore,
): Promise<void> {
  const id = event.streamId;
  const a = (await docs.get<ActivityEntry>('activity', id)) ?? {
    events: 0,
    logins: 0,
    roleChanges: 0,
    active: true,
  };
  await docs.put('activity', id, {
    events: a.events + 1,
    logins: a.logins + (event.type === 'UserLoggedIn' ? 1 : 0),
    roleChanges: a.roleChanges + (event.type === 'UserRoleUpdated' ? 1 : 0),
    active: event.type === 'UserDeleted' ? false : a.active,
  });
}

/** A small deterministic PRNG, so a failing run can be replayed. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The user-management service: registers users, then updates, logins, role changes, deletions. */
export class UserService {
  readonly #alive: string[] = [];
  #next = 0;
  constructor(
    private readonly store: EventStore,
    private readonly random: () => number,
  ) {}

  async create(count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      const n = this.#next++;
      const id = `user-${n}`;
      await this.store.appendToStream(
        id,
        [
          {
            type: 'UserCreated',
            data: {
              username: `u${n}`,
              email: `u${n}@example.com`,
              name: `User ${n}`,
              role: 'member',
            },
          },
        ],
        { expectedVersion: 'no_stream' },
      );
      this.#alive.push(id);
    }
  }

  async act(steps: number): Promise<void> {
    for (let i = 0; i < steps; i++) {
      const at = Math.floor(this.random() * this.#alive.length);
      const id = this.#alive[at];
      if (id === undefined) return;
      const r = this.random();
      const event =
        r < 0.45
          ? {
              type: 'UserLoggedIn',
              data: { at: new Date(1_700_000_000_000 + i * 1000).toISOString() },
            }
          : r < 0.7
            ? { type: 'UserUpdated', data: { name: `Name ${i}` } }
            : r < 0.93
              ? { type: 'UserRoleUpdated', data: { role: r < 0.8 ? 'admin' : 'member' } }
              : { type: 'UserDeleted', data: { reason: 'asked' } };
      await this.store.appendToStream(id, [event], { expectedVersion: 'stream_exists' });
      if (event.type === 'UserDeleted') this.#alive.splice(at, 1);
    }
  }
}
