/**
 * Crypto-shredding over every event store: personal fields are encrypted before they are
 * stored, every read path sees plaintext, and after `forget` every read path sees the
 * redaction marker. Each store's test file calls `cryptoShreddingContract` with a factory
 * for a fresh store made with its `personalData` option (so its own key store), and the
 * snapshot store on the same backend.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  createCommandHandler,
  createCryptoShredder,
  createMemoryDocuments,
  type CryptoShredder,
  type CryptoShreddingEventStore,
  ERASED,
  type InlineProjection,
  isEncryptedValue,
  isIdempotencyConflictError,
  isPersonalDataForgotten,
  isTamperedDataError,
  type KeyEncryptionKey,
  PERSONAL_DATA_FIELD,
  type PersonalDataStoreOptions,
  type RecordedEvent,
  personalData,
  rebuildProjection,
  type SnapshotStore,
  type SyncDocumentStore,
  startProjection,
  withSnapshotEncryption,
  withUpcasting,
} from '../../src/core/index.js';

export interface ShreddingHarness {
  /** A fresh store made with `personalData` (and `inlineProjections` where the store has them). */
  create(options: {
    personalData: PersonalDataStoreOptions;
    inlineProjections?: InlineProjection[];
  }): Promise<{
    store: CryptoShreddingEventStore;
    snapshots: SnapshotStore;
    /** Where the store's inline projections write; absent for stores without them. */
    documents?: SyncDocumentStore;
  }>;
  /** The store runs inline projections (memory, SQLite). */
  inlineProjections: boolean;
}

type UserEvents =
  | { type: 'UserRegistered'; data: { userId: string; email: string; name: string; plan: string } }
  | { type: 'UserRenamed'; data: { userId: string; name: string } };

export const userPersonalData = personalData<UserEvents>({
  UserRegistered: { subject: (e) => e.data.userId, fields: ['email', 'name'] },
  UserRenamed: { subject: (e) => e.data.userId, fields: ['name'] },
});

export const newKek = (): KeyEncryptionKey => ({
  bytes: crypto.getRandomValues(new Uint8Array(32)),
});

const registered = (userId: string, email: string, name = 'Ada Lovelace') => ({
  type: 'UserRegistered' as const,
  data: { userId, email, name, plan: 'pro' },
});

export function cryptoShreddingContract(name: string, harness: ShreddingHarness): void {
  describe(`crypto-shredding contract: ${name}`, () => {
    const open: { close(): Promise<void> }[] = [];
    afterEach(async () => {
      for (const c of open.splice(0).reverse()) await c.close();
    });
    const fresh = async (kek = newKek(), inlineProjections?: InlineProjection[]) => {
      const {
        store: shredding,
        snapshots,
        documents,
      } = await harness.create({
        personalData: { policy: userPersonalData, keyEncryptionKey: kek },
        ...(inlineProjections ? { inlineProjections } : {}),
      });
      open.push(shredding);
      const shredder = shredding.shredder;
      return {
        shredding,
        snapshots,
        kek,
        shredder,
        keyStore: shredder.keyStore,
        store: shredding.storedForm,
        documents,
      };
    };

    it('stores personal fields encrypted and reads them back as plaintext', async () => {
      const { store, shredding } = await fresh();
      await shredding.appendToStream('user-1', [registered('1', 'ada@example.com')]);
      const [raw] = await store.readStream('user-1');
      const data = raw!.data as Record<string, unknown>;
      // One ciphertext for all of the event's personal fields; the rest stays readable.
      expect(isEncryptedValue(data[PERSONAL_DATA_FIELD])).toBe(true);
      expect(Object.keys(data).sort()).toEqual([PERSONAL_DATA_FIELD, 'plan', 'userId']);
      expect(data.plan).toBe('pro');
      expect(JSON.stringify(raw)).not.toContain('ada@example.com');
      expect(JSON.stringify(raw)).not.toContain('Lovelace');
      const expected = { userId: '1', email: 'ada@example.com', name: 'Ada Lovelace', plan: 'pro' };
      expect((await shredding.readStream('user-1'))[0]!.data).toEqual(expected);
      expect((await shredding.readAll()).find((e) => e.streamId === 'user-1')!.data).toEqual(
        expected,
      );
    });

    it('reads the redaction marker in exactly the personal fields after forget, on every read path', async () => {
      const { shredding } = await fresh();
      await shredding.appendToStream('user-1', [registered('1', 'ada@example.com')]);
      await shredding.appendToStream('user-1', [
        { type: 'UserRenamed', data: { userId: '1', name: 'Ada King' } },
      ]);
      await shredding.appendToStream('user-2', [registered('2', 'bob@example.com', 'Bob')]);
      const result = await shredding.forget('1');
      expect(result.outcome).toBe('forgotten');
      const erased = await shredding.readStream('user-1');
      expect(erased.map((e) => e.data)).toEqual([
        { userId: '1', email: ERASED, name: ERASED, plan: 'pro' },
        { userId: '1', name: ERASED },
      ]);
      const all = await shredding.readAll();
      expect(all.filter((e) => e.streamId === 'user-1').map((e) => e.data)).toEqual(
        erased.map((e) => e.data),
      );
      expect(JSON.stringify(all)).not.toContain('ada@example.com');
      expect((await shredding.readStream('user-2'))[0]!.data).toMatchObject({
        email: 'bob@example.com',
      });
      // The fact is recorded where every copy (projections, other processes) can react.
      const fact = all.find((e) => e.type === 'PersonalDataForgotten');
      expect(fact).toMatchObject({ streamId: 'personal-data-1', data: { subject: '1' } });
    });

    it('delivers plaintext to subscriptions and projections, and the marker after forget on a rebuild', async () => {
      const { shredding } = await fresh();
      await shredding.appendToStream('user-1', [registered('1', 'ada@example.com')]);
      const seen: unknown[] = [];
      const sub = shredding.subscribe({
        name: 'emails',
        handler: (e) => {
          if (e.type === 'UserRegistered') seen.push((e.data as { email: string }).email);
        },
      });
      const docs = createMemoryDocuments();
      const projection = {
        name: 'users',
        collections: ['users'],
        eventTypes: ['UserRegistered'],
        handle: async (
          e: { data: unknown },
          d: { put: (c: string, id: string, doc: Record<string, unknown>) => Promise<void> },
        ) => {
          const data = e.data as { userId: string; email: string };
          await d.put('users', data.userId, { id: data.userId, email: data.email });
        },
      };
      const live = startProjection({ store: shredding, projection, target: docs.target });
      const head = await shredding.headPosition();
      await sub.waitFor(head, 10_000);
      await live.waitFor(head, 10_000);
      await sub.stop();
      await live.stop();
      expect(seen).toEqual(['ada@example.com']);
      expect(await docs.async.get('users', '1')).toMatchObject({ email: 'ada@example.com' });
      await shredding.forget('1');
      await rebuildProjection({ store: shredding, projection, target: docs.target });
      expect(await docs.async.get('users', '1')).toMatchObject({ email: ERASED });
    });

    it('delivers plaintext to a subscriber that asked for batches as well', async () => {
      const { shredding } = await fresh();
      await shredding.appendToStream('user-1', [registered('1', 'ada@example.com')]);
      const seen: RecordedEvent[] = [];
      const sub = shredding.subscribe({
        name: 'batches',
        handler: (e) => void seen.push(e),
        handleBatch: (events) => void seen.push(...events),
      });
      await sub.waitFor(await shredding.headPosition(), 10_000);
      await sub.stop();
      expect(seen.map((e) => e.data)).toEqual([
        { userId: '1', email: 'ada@example.com', name: 'Ada Lovelace', plan: 'pro' },
      ]);
    });

    it('lets command handlers, snapshots and upcasters work on plaintext, and keep working after forget', async () => {
      const { shredding, snapshots, shredder, store } = await fresh();
      const encrypted = withSnapshotEncryption(snapshots, shredder, {
        subject: (s) => (s.streamId.startsWith('user-') ? s.streamId.slice(5) : undefined),
      });
      const upcast = withUpcasting(shredding, [
        {
          type: 'UserRegistered',
          fromSchemaVersion: 1,
          upcast: (e) => ({
            data: {
              ...(e.data as object),
              emailDomain: String((e.data as { email: string }).email).split('@')[1] ?? ERASED,
            },
          }),
        },
      ]);
      type State = { email?: string; name?: string; renames: number };
      const decider = {
        initialState: (): State => ({ renames: 0 }),
        evolve: (s: State, e: { type: string; data: unknown }): State => {
          const d = e.data as { email?: string; name?: string };
          return e.type === 'UserRegistered'
            ? { ...s, email: d.email, name: d.name }
            : { ...s, name: d.name, renames: s.renames + 1 };
        },
        decide: (c: { name: string }, s: State) =>
          s.name === c.name ? [] : [{ type: 'UserRenamed', data: { userId: '1', name: c.name } }],
      };
      const handle = createCommandHandler({
        store: shredding,
        decider,
        snapshots: { store: encrypted, every: 2 },
      });
      await shredding.appendToStream('user-1', [registered('1', 'ada@example.com')]);
      const r = await handle('user-1', { name: 'Ada King' });
      expect(r.nextExpectedVersion).toBe(2);
      await expect.poll(async () => (await snapshots.load('user-1'))?.version).toBe(2);
      const stored = await snapshots.load('user-1');
      expect(JSON.stringify(stored)).not.toContain('ada@example.com');
      expect(isEncryptedValue(stored!.state)).toBe(true);
      expect((await encrypted.load<State>('user-1'))!.state).toMatchObject({
        email: 'ada@example.com',
        name: 'Ada King',
      });
      expect((await upcast.readStream('user-1'))[0]!.data).toMatchObject({
        emailDomain: 'example.com',
      });

      await shredding.forget('1');
      expect(await encrypted.load('user-1')).toBeUndefined();
      const after = await handle('user-1', { name: 'Ada K.' });
      expect(after.nextExpectedVersion).toBe(3);
      expect((await upcast.readStream('user-1'))[0]!.data).toMatchObject({
        email: ERASED,
        emailDomain: ERASED,
      });
      // Late data about a forgotten subject is not kept, and the raw log never saw the name.
      const raw = await store.readStream('user-1');
      expect(raw[2]!.data).toEqual({ userId: '1', name: ERASED });
      expect(JSON.stringify(raw)).not.toContain('Ada K.');
    });

    it('succeeds without writing when a personal event is re-appended under its id with the same data', async () => {
      const { shredding, store } = await fresh();
      const event = { id: 'reg-1', ...registered('1', 'ada@example.com') };
      const first = await shredding.appendToStream('user-1', [event], {
        expectedVersion: 'no_stream',
      });
      const stored = await store.readAll();
      const again = await shredding.appendToStream(
        'user-1',
        [{ ...event, data: { ...event.data } }],
        {
          expectedVersion: 'no_stream',
        },
      );
      expect(again).toEqual(first);
      expect(await store.readAll()).toEqual(stored);
      expect((await shredding.readStream('user-1')).map((e) => e.data)).toEqual([event.data]);
    });

    it('refuses the same event id with different personal data as an idempotency conflict', async () => {
      const { shredding, store } = await fresh();
      await shredding.appendToStream('user-1', [
        { id: 'reg-1', ...registered('1', 'ada@example.com') },
      ]);
      const stored = await store.readAll();
      await expect(
        shredding.appendToStream('user-1', [
          { id: 'reg-1', ...registered('1', 'eve@example.com') },
        ]),
      ).rejects.toSatisfy(isIdempotencyConflictError);
      await expect(
        shredding.appendToStream('user-1', [
          { id: 'reg-1', ...registered('1', 'ada@example.com', 'Ada King') },
        ]),
      ).rejects.toSatisfy(isIdempotencyConflictError);
      expect(await store.readAll()).toEqual(stored);
    });

    it('lets two runs of a command with the same idempotency key on a personal event succeed once', async () => {
      const { shredding, store } = await fresh();
      // Both runs load the empty stream and decide before either appends: the second append
      // is the store's idempotent re-append of the first one's events.
      let entered = 0;
      let release!: () => void;
      const bothDecided = new Promise<void>((resolve) => (release = resolve));
      const handle = createCommandHandler({
        store: shredding,
        decider: {
          initialState: () => ({ registered: false }),
          evolve: () => ({ registered: true }),
          decide: async (c: { email: string }, s: { registered: boolean }) => {
            if (++entered === 2) release();
            await bothDecided;
            return s.registered ? [] : [registered('1', c.email)];
          },
        },
      });
      const [a, b] = await Promise.all([
        handle('user-1', { email: 'ada@example.com' }, { idempotencyKey: 'req-1' }),
        handle('user-1', { email: 'ada@example.com' }, { idempotencyKey: 'req-1' }),
      ]);
      expect(entered).toBe(2);
      // Absorbed by the store as a re-append, not recovered by reading the winner's events.
      expect([a.idempotentReplay, b.idempotentReplay]).toEqual([false, false]);
      expect(b.nextExpectedVersion).toBe(a.nextExpectedVersion);
      expect(b.events.map((e) => e.id)).toEqual(a.events.map((e) => e.id));
      const raw = await store.readStream('user-1');
      expect(raw).toHaveLength(1);
      expect((await shredding.readStream('user-1'))[0]!.data).toMatchObject({
        email: 'ada@example.com',
      });
    });

    it('says so when forgetting an unknown subject, and records nothing', async () => {
      const { shredding } = await fresh();
      const result = await shredding.forget('nobody');
      expect(result.outcome).toBe('unknown');
      expect(result.message).toContain("No data key exists for subject 'nobody'");
      expect(await shredding.headPosition()).toBe(0);
      await shredding.appendToStream('user-1', [registered('1', 'ada@example.com')]);
      await shredding.forget('1');
      expect((await shredding.forget('1')).outcome).toBe('already-forgotten');
      expect(
        (await shredding.readAll()).filter((e) => e.type === 'PersonalDataForgotten'),
      ).toHaveLength(1);
    });

    it('refuses a tampered or moved ciphertext with an error that names the event', async () => {
      const { store, shredding } = await fresh();
      await shredding.appendToStream('user-1', [registered('1', 'ada@example.com')]);
      const [original] = await store.readStream('user-1');
      const sealed = (original!.data as { _personal: { ct: string } })._personal;
      // Moved: a valid ciphertext copied into another event fails authentication.
      await store.appendToStream('user-9', [
        { id: 'moved-1', type: 'UserRegistered', data: { ...(original!.data as object) } },
      ]);
      const moved = shredding.readStream('user-9');
      await expect(moved).rejects.toSatisfy(isTamperedDataError);
      await expect(moved).rejects.toThrow(/event moved-1 \(stream 'user-9' version 1\)/);
      // Altered: one flipped character of the ciphertext.
      const at = sealed.ct.length - 6;
      const flipped =
        sealed.ct.slice(0, at) + (sealed.ct[at] === 'A' ? 'B' : 'A') + sealed.ct.slice(at + 1);
      await store.appendToStream('user-8', [
        {
          id: 'altered-1',
          type: 'UserRegistered',
          data: { ...(original!.data as object), _personal: { ...sealed, ct: flipped } },
        },
      ]);
      await expect(shredding.readStream('user-8')).rejects.toThrow(
        /personal fields of event altered-1 \(stream 'user-8' version 1\)/,
      );
    });

    it('rotates the key-encryption key without touching events', async () => {
      const { shredding, keyStore, store, kek } = await fresh();
      await shredding.appendToStream('user-1', [registered('1', 'ada@example.com')]);
      const before = await store.readAll();
      const next = newKek();
      const rotating = createCryptoShredder({
        personalData: userPersonalData,
        keyStore,
        keyEncryptionKey: next,
        previousKeyEncryptionKeys: [kek],
      });
      expect(await rotating.rotateKeyEncryptionKey()).toEqual({ rewrapped: 1 });
      expect(await rotating.rotateKeyEncryptionKey()).toEqual({ rewrapped: 0 });
      expect(await store.readAll()).toEqual(before);
      const onlyNew: CryptoShredder = createCryptoShredder({
        personalData: userPersonalData,
        keyStore,
        keyEncryptionKey: next,
      });
      const [event] = await store.readStream('user-1');
      expect((await onlyNew.decryptEvent(event!)).data).toMatchObject({ email: 'ada@example.com' });
      const onlyOld = createCryptoShredder({
        personalData: userPersonalData,
        keyStore,
        keyEncryptionKey: kek,
      });
      await expect(onlyOld.decryptEvent(event!)).rejects.toThrow(/previousKeyEncryptionKeys/);
    });

    it('lets a consumer holding the key store decrypt, and see the erasure once it reads the forget', async () => {
      const { store, shredding, keyStore, kek } = await fresh();
      await shredding.appendToStream('user-1', [registered('1', 'ada@example.com')]);
      const consumer = createCryptoShredder({
        personalData: userPersonalData,
        keyStore,
        keyEncryptionKey: kek,
      });
      const [event] = await store.readStream('user-1');
      expect((await consumer.decryptEvent(event!)).data).toMatchObject({
        email: 'ada@example.com',
      });
      await shredding.forget('1');
      for (const e of await store.readAll()) await consumer.decryptEvent(e);
      expect((await consumer.decryptEvent(event!)).data).toMatchObject({ email: ERASED });
    });
    if (harness.inlineProjections)
      it('hands inline projections plaintext while the stored events hold ciphertext, and erases on a forgotten subject', async () => {
        const users: InlineProjection = {
          name: 'users-inline',
          collections: ['users'],
          eventTypes: ['UserRegistered', 'PersonalDataForgotten'],
          handle(e, docs) {
            if (isPersonalDataForgotten(e)) {
              const row = docs.get('users', e.data.subject);
              if (row) docs.put('users', e.data.subject, { ...row, email: ERASED });
              return;
            }
            const d = e.data as { userId: string; email: string };
            docs.put('users', d.userId, { id: d.userId, email: d.email });
          },
        };
        const { shredding, store, documents } = await fresh(newKek(), [users]);
        await shredding.appendToStream('user-1', [registered('1', 'ada@example.com')]);
        const docs = documents!;
        expect(docs.get('users', '1')).toMatchObject({ email: 'ada@example.com' });
        expect(JSON.stringify(await store.readAll())).not.toContain('ada@example.com');
        await shredding.forget('1');
        expect(docs.get('users', '1')).toEqual({ id: '1', email: ERASED });
        // Late data about a forgotten subject reaches the projection erased, too.
        await shredding.appendToStream('user-1', [registered('1', 'ada.again@example.com')]);
        expect(docs.get('users', '1')).toEqual({ id: '1', email: ERASED });
      });

    it("lets an async read model anonymise a forgotten subject's row through its projection", async () => {
      const { shredding } = await fresh();
      await shredding.appendToStream('user-1', [registered('1', 'ada@example.com')]);
      await shredding.appendToStream('user-2', [registered('2', 'bob@example.com', 'Bob')]);
      const docs = createMemoryDocuments();
      const projection = {
        name: 'user-directory',
        collections: ['users'],
        eventTypes: ['UserRegistered', 'PersonalDataForgotten'],
        handle: async (
          e: Parameters<typeof isPersonalDataForgotten>[0],
          d: {
            get: (c: string, id: string) => Promise<Record<string, unknown> | undefined>;
            put: (c: string, id: string, doc: Record<string, unknown>) => Promise<void>;
          },
        ) => {
          if (isPersonalDataForgotten(e)) {
            const row = await d.get('users', e.data.subject);
            if (row) await d.put('users', e.data.subject, { ...row, email: ERASED, name: ERASED });
            return;
          }
          const data = e.data as { userId: string; email: string; name: string };
          await d.put('users', data.userId, {
            id: data.userId,
            email: data.email,
            name: data.name,
          });
        },
      };
      const live = startProjection({ store: shredding, projection, target: docs.target });
      await live.waitFor(await shredding.headPosition(), 10_000);
      expect(await docs.async.get('users', '1')).toMatchObject({ email: 'ada@example.com' });
      await shredding.forget('1');
      await live.waitFor(await shredding.headPosition(), 10_000);
      await live.stop();
      expect(await docs.async.get('users', '1')).toEqual({ id: '1', email: ERASED, name: ERASED });
      expect(await docs.async.get('users', '2')).toMatchObject({ email: 'bob@example.com' });
    });
  });
}
