import { describe, expect, it } from 'vitest';
import { createCommandHandler } from '../../src/core/commandHandler.js';
import type { Decider } from '../../src/core/decider.js';
import {
  isEventloomError,
  isValidationError,
  type ValidationError,
} from '../../src/core/errors.js';
import { createMemoryEventStore } from '../../src/core/memoryEventStore.js';
import type { RecordedEvent } from '../../src/core/types.js';
import { createUpcaster, withUpcasting, type Upcaster } from '../../src/core/upcasting.js';

// The history of the user-registration event:
//   'UserCreated'           (v1) { name, email }                       — the original name
//   'UserRegistered' v1          { name, email }                       — renamed, same data
//   'UserRegistered' v2          { givenName, familyName, email }      — name split
//   'UserRegistered' v3          { givenName, familyName, emails: [] } — several addresses
const renameCreated: Upcaster = {
  type: 'UserCreated',
  fromSchemaVersion: 1,
  toSchemaVersion: 1,
  upcast: (event) => ({ type: 'UserRegistered', data: event.data }),
};
const splitName: Upcaster = {
  type: 'UserRegistered',
  fromSchemaVersion: 1,
  upcast: ({ data }) => {
    const { name, ...rest } = data as { name: string; email: string };
    const [givenName = '', ...family] = name.split(' ');
    return { data: { ...rest, givenName, familyName: family.join(' ') } };
  },
};
const manyEmails: Upcaster = {
  type: 'UserRegistered',
  fromSchemaVersion: 2,
  upcast: ({ data, metadata }) => {
    const { email, ...rest } = data as { email: string; givenName: string; familyName: string };
    return { data: { ...rest, emails: [email] }, metadata: { ...metadata, upcastFrom: 2 } };
  },
};
const all = [renameCreated, splitName, manyEmails];

const current = { givenName: 'Ada', familyName: 'King Lovelace', emails: ['ada@example.org'] };

function recorded(
  type: string,
  data: unknown,
  metadata: Record<string, unknown> = {},
): RecordedEvent {
  return {
    id: 'e-1',
    streamId: 'user-1',
    type,
    data,
    metadata,
    version: 1,
    position: 7,
    recordedAt: new Date(0),
  };
}

function thrownBy(f: () => unknown): unknown {
  try {
    f();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('createUpcaster', () => {
  it('upcasts a v1 event through every version to v3', () => {
    const upcast = createUpcaster(all);

    const event = upcast(
      recorded('UserRegistered', { name: 'Ada King Lovelace', email: 'ada@example.org' }),
    );

    expect(event.data).toEqual(current);
    expect(event.metadata).toEqual({ schemaVersion: 3, upcastFrom: 2 });
    expect(event).toMatchObject({ id: 'e-1', streamId: 'user-1', version: 1, position: 7 });
  });

  it('starts from the schema version recorded in the metadata', () => {
    const upcast = createUpcaster(all);
    const event = upcast(
      recorded(
        'UserRegistered',
        { givenName: 'Ada', familyName: 'King Lovelace', email: 'ada@example.org' },
        { schemaVersion: 2 },
      ),
    );
    expect(event.data).toEqual(current);
  });

  it('renames an old event type and feeds it into the new type’s chain', () => {
    const upcast = createUpcaster(all);
    const event = upcast(
      recorded('UserCreated', { name: 'Ada King Lovelace', email: 'ada@example.org' }),
    );
    expect(event.type).toBe('UserRegistered');
    expect(event.data).toEqual(current);
    expect(event.metadata.schemaVersion).toBe(3);
  });

  it('returns current events and unknown types untouched', () => {
    const upcast = createUpcaster(all);
    const latest = recorded('UserRegistered', current, { schemaVersion: 3 });
    const other = recorded('PasswordChanged', { passwordHash: 'argon2id$placeholder' });
    expect(upcast(latest)).toBe(latest);
    expect(upcast(other)).toBe(other);
  });

  it('rejects two upcasters for the same type and version when it is built', () => {
    const error = thrownBy(() => createUpcaster([splitName, manyEmails, { ...splitName }]));
    expect(isValidationError(error)).toBe(true);
    expect((error as ValidationError).path).toBe('upcasters[2]');
    expect((error as Error).message).toContain('like upcasters[0]');
  });

  it('rejects malformed upcasters with the path of the bad field', () => {
    const bad = [
      { ...splitName, fromSchemaVersion: 0 },
      { ...splitName, type: '' },
      { ...splitName, upcast: 'nope' },
      { ...splitName, toSchemaVersion: 1.5 },
    ] as unknown as Upcaster[];
    const paths = bad.map((u) => (thrownBy(() => createUpcaster([u])) as ValidationError).path);
    expect(paths).toEqual([
      'upcasters[0].fromSchemaVersion',
      'upcasters[0].type',
      'upcasters[0].upcast',
      'upcasters[0].toSchemaVersion',
    ]);
  });

  it('detects upcasters that rename types in a circle', () => {
    const upcast = createUpcaster([
      {
        type: 'A',
        fromSchemaVersion: 1,
        toSchemaVersion: 1,
        upcast: (e) => ({ type: 'B', data: e.data }),
      },
      {
        type: 'B',
        fromSchemaVersion: 1,
        toSchemaVersion: 1,
        upcast: (e) => ({ type: 'A', data: e.data }),
      },
    ]);
    const error = thrownBy(() => upcast(recorded('A', {})));
    expect(isValidationError(error)).toBe(true);
    expect((error as Error).message).toContain('loops back');
  });

  it('names the event when an upcaster fails and keeps the cause', () => {
    const upcast = createUpcaster([splitName]);
    const error = thrownBy(() =>
      upcast(recorded('UserRegistered', { email: 'no-name@example.org' })),
    );
    expect(isEventloomError(error)).toBe(true);
    expect((error as Error).message).toContain("event e-1 (stream 'user-1' version 1)");
    expect((error as Error).cause).toBeInstanceOf(TypeError);
  });

  it('rejects an event whose schemaVersion is not a positive integer', () => {
    const upcast = createUpcaster(all);
    const error = thrownBy(() => upcast(recorded('UserRegistered', {}, { schemaVersion: '2' })));
    expect(isValidationError(error)).toBe(true);
    expect((error as Error).message).toContain('e-1');
  });
});

describe('withUpcasting', () => {
  async function seeded() {
    const inner = createMemoryEventStore();
    await inner.appendToStream('user-1', [
      { type: 'UserCreated', data: { name: 'Ada King Lovelace', email: 'ada@example.org' } },
      { type: 'PasswordChanged', data: { passwordHash: 'argon2id$placeholder' } },
    ]);
    await inner.appendToStream('user-2', [
      {
        type: 'UserRegistered',
        data: { givenName: 'Alan', familyName: 'Turing', email: 'alan@example.org' },
        metadata: { schemaVersion: 2 },
      },
    ]);
    return { inner, store: withUpcasting(inner, all) };
  }

  it('upcasts what readStream and readAll return', async () => {
    const { store } = await seeded();

    const stream = await store.readStream('user-1');
    const everything = await store.readAll();

    expect(stream.map((e) => e.type)).toEqual(['UserRegistered', 'PasswordChanged']);
    expect(stream[0]?.data).toEqual(current);
    expect(everything.map((e) => [e.type, e.position])).toEqual([
      ['UserRegistered', 1],
      ['PasswordChanged', 2],
      ['UserRegistered', 3],
    ]);
    expect(everything[2]?.data).toEqual({
      givenName: 'Alan',
      familyName: 'Turing',
      emails: ['alan@example.org'],
    });
  });

  it('stores appended events as they are and leaves the stored history untouched', async () => {
    const { inner, store } = await seeded();
    await store.appendToStream('user-3', [
      { type: 'UserRegistered', data: current, metadata: { schemaVersion: 3 } },
    ]);
    expect((await inner.readStream('user-3'))[0]?.data).toEqual(current);
    expect((await inner.readStream('user-1'))[0]?.type).toBe('UserCreated');
    expect(await store.headPosition()).toBe(4);
    expect((await store.streamInfo('user-3')).version).toBe(1);
  });

  it('hands upcast events to subscription handlers and filters on the upcast type', async () => {
    const { store } = await seeded();
    const delivered: RecordedEvent[] = [];
    const registrations: RecordedEvent[] = [];
    const everything = store.subscribe({ name: 'all', handler: (e) => void delivered.push(e) });
    const onlyRegistered = store.subscribe({
      name: 'registrations',
      eventTypes: ['UserRegistered'],
      handler: (e) => void registrations.push(e),
    });

    await Promise.all([everything.waitFor(3, 5000), onlyRegistered.waitFor(3, 5000)]);
    await Promise.all([everything.stop(), onlyRegistered.stop()]);

    expect(delivered.map((e) => e.type)).toEqual([
      'UserRegistered',
      'PasswordChanged',
      'UserRegistered',
    ]);
    // 'UserCreated' is stored under its old name but delivered as 'UserRegistered'.
    expect(registrations.map((e) => e.streamId)).toEqual(['user-1', 'user-2']);
    expect(registrations[0]?.data).toEqual(current);
    await store.close();
  });

  it('hands upcast events to a subscriber that asked for batches as well', async () => {
    const { store } = await seeded();
    const delivered: RecordedEvent[] = [];
    const sub = store.subscribe({
      name: 'batches',
      handler: (e) => void delivered.push(e),
      handleBatch: (events) => void delivered.push(...events),
    });
    await sub.waitFor(3, 5000);
    await sub.stop();
    expect(delivered.map((e) => e.type)).toEqual([
      'UserRegistered',
      'PasswordChanged',
      'UserRegistered',
    ]);
    expect(delivered[0]?.data).toEqual(current);
    await store.close();
  });

  it('lets a command handler on the wrapped store see only current events', async () => {
    const { store } = await seeded();
    type Registered = { type: 'UserRegistered'; data: typeof current };
    type Other = { type: 'PasswordChanged'; data: { passwordHash: string } };
    const profile: Decider<
      { emails: string[] },
      { type: 'AddEmail'; email: string },
      Registered | Other
    > = {
      initialState: () => ({ emails: [] }),
      decide: (command, state) =>
        state.emails.includes(command.email)
          ? []
          : [
              {
                type: 'UserRegistered',
                data: { givenName: '', familyName: '', emails: [...state.emails, command.email] },
              },
            ],
      evolve: (state, event) =>
        event.type === 'UserRegistered' ? { emails: event.data.emails } : state,
    };
    const handle = createCommandHandler({ store, decider: profile });

    const result = await handle('user-1', { type: 'AddEmail', email: 'ada@example.org' });

    expect(result.state.emails).toEqual(['ada@example.org']);
    expect(result.events).toEqual([]);
  });

  it('still validates a subscription without a handler', async () => {
    const { store } = await seeded();
    const error = thrownBy(() =>
      store.subscribe({ name: 'broken' } as unknown as Parameters<typeof store.subscribe>[0]),
    );
    expect(isValidationError(error)).toBe(true);
  });
});
