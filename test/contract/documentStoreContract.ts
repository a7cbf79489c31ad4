/**
 * The read-model port's contract (DocumentStore and ProjectionTarget), written once and run
 * against every target (memory, SQLite, MongoDB, PostgreSQL). Each target's test file calls
 * `documentStoreContract` with a factory returning a fresh, empty projection target.
 */
import { describe, expect, it } from 'vitest';
import { isValidationError } from '../../src/core/errors.js';
import type { ProjectionTarget } from '../../src/core/readModel.js';

export interface DocumentStoreHarness {
  create(): Promise<ProjectionTarget>;
}

const users = [
  { id: 'u1', username: 'ada', age: 36, admin: true, team: 'core' },
  { id: 'u2', username: 'bob', age: 25, admin: false, team: 'core' },
  { id: 'u3', username: 'cy', age: 41, admin: false, team: null },
  { id: 'u4', username: 'di', age: 30, admin: false },
];

export function documentStoreContract(name: string, harness: DocumentStoreHarness): void {
  describe(`DocumentStore contract: ${name}`, () => {
    const seeded = async (): Promise<ProjectionTarget> => {
      const target = await harness.create();
      for (const u of users) await target.documents.put('users', u.id, u);
      return target;
    };

    it('returns nothing for a missing document or collection', async () => {
      const target = await harness.create();
      expect(await target.documents.get('users', 'u1')).toBeUndefined();
      expect(await target.documents.find('users')).toEqual([]);
    });

    it('returns a put document as it was put, replacing an earlier one', async () => {
      const target = await harness.create();
      await target.documents.put('users', 'u1', { username: 'ada', tags: ['x'], nested: { a: 1 } });
      await target.documents.put('users', 'u1', { username: 'ada l.', tags: [], nested: { b: 2 } });
      expect(await target.documents.get('users', 'u1')).toEqual({
        username: 'ada l.',
        tags: [],
        nested: { b: 2 },
      });
    });

    it('keeps collections apart', async () => {
      const target = await harness.create();
      await target.documents.put('users', 'x', { n: 1 });
      await target.documents.put('orders', 'x', { n: 2 });
      expect(await target.documents.get('users', 'x')).toEqual({ n: 1 });
      expect(await target.documents.find('orders')).toEqual([{ n: 2 }]);
    });

    it('stores a Date as its ISO string', async () => {
      const target = await harness.create();
      await target.documents.put('users', 'u1', { at: new Date('2024-01-02T03:04:05.006Z') });
      expect(await target.documents.get('users', 'u1')).toEqual({
        at: '2024-01-02T03:04:05.006Z',
      });
    });

    it('is not changed by a caller mutating a put or read document', async () => {
      const target = await harness.create();
      const doc = { n: 1, list: [1] };
      await target.documents.put('users', 'u1', doc);
      doc.list.push(2);
      const read = await target.documents.get<{ n: number }>('users', 'u1');
      if (read) read.n = 99;
      expect(await target.documents.get('users', 'u1')).toEqual({ n: 1, list: [1] });
    });

    it('deletes a document, and deleting a missing one is a no-op', async () => {
      const target = await seeded();
      await target.documents.delete('users', 'u1');
      await target.documents.delete('users', 'u1');
      await target.documents.delete('nothing', 'u1');
      expect(await target.documents.get('users', 'u1')).toBeUndefined();
      expect((await target.documents.find('users')).map((u) => u.id)).toEqual(['u2', 'u3', 'u4']);
    });

    it('finds by equality on strings, numbers and booleans, all fields at once', async () => {
      const target = await seeded();
      const ids = async (f: Record<string, string | number | boolean | null>) =>
        (await target.documents.find('users', f)).map((u) => u.id);
      expect(await ids({ username: 'bob' })).toEqual(['u2']);
      expect(await ids({ age: 41 })).toEqual(['u3']);
      expect(await ids({ admin: true })).toEqual(['u1']);
      expect(await ids({ admin: false, team: 'core' })).toEqual(['u2']);
      expect(await ids({ username: 'nobody' })).toEqual([]);
    });

    it('matches a null filter value on null and on a missing field', async () => {
      const target = await seeded();
      const found = await target.documents.find('users', { team: null });
      expect(found.map((u) => u.id)).toEqual(['u3', 'u4']);
    });

    it('returns documents in id order without a sort', async () => {
      const target = await harness.create();
      for (const id of ['c', 'a', 'b']) await target.documents.put('letters', id, { id });
      expect((await target.documents.find('letters')).map((d) => d.id)).toEqual(['a', 'b', 'c']);
    });

    it('sorts by a field both ways and limits the result', async () => {
      const target = await seeded();
      const sorted = async (direction: 'asc' | 'desc', limit?: number) =>
        (
          await target.documents.find('users', undefined, {
            sort: { field: 'age', direction },
            ...(limit === undefined ? {} : { limit }),
          })
        ).map((u) => u.age);
      expect(await sorted('asc')).toEqual([25, 30, 36, 41]);
      expect(await sorted('desc')).toEqual([41, 36, 30, 25]);
      expect(await sorted('desc', 2)).toEqual([41, 36]);
      expect(await sorted('asc', 0)).toEqual([]);
      const admins = await target.documents.find('users', { admin: false }, { limit: 1 });
      expect(admins.map((u) => u.id)).toEqual(['u2']);
    });

    it('finds entries with their ids', async () => {
      const target = await seeded();
      expect(await target.findEntries('users', { username: 'ada' })).toEqual([
        { id: 'u1', doc: users[0] },
      ]);
    });

    it('commits a batch of writes with the checkpoint, and reset removes both', async () => {
      const target = await seeded();
      expect(await target.loadCheckpoint('users-projection')).toBeUndefined();
      await target.commit('users-projection', 7, [
        { op: 'put', collection: 'users', id: 'u5', doc: { id: 'u5', username: 'eve' } },
        { op: 'delete', collection: 'users', id: 'u1' },
      ]);
      expect(await target.loadCheckpoint('users-projection')).toBe(7);
      expect(await target.documents.get('users', 'u5')).toEqual({ id: 'u5', username: 'eve' });
      expect(await target.documents.get('users', 'u1')).toBeUndefined();
      await target.documents.put('other', 'o1', { kept: true });
      await target.reset('users-projection', ['users']);
      expect(await target.loadCheckpoint('users-projection')).toBeUndefined();
      expect(await target.documents.find('users')).toEqual([]);
      expect(await target.documents.get('other', 'o1')).toEqual({ kept: true });
    });

    it('applies a claim once: a second claim of the same id writes nothing', async () => {
      const target = await harness.create();
      const claim = { collection: 'processed', id: 'event-1', doc: { at: 1 } };
      const commitClaim = target.commitClaim?.bind(target);
      expect(commitClaim).toBeDefined();
      if (!commitClaim) return;
      expect(
        await commitClaim(claim, [{ op: 'put', collection: 'totals', id: 't', doc: { n: 1 } }]),
      ).toBe(true);
      expect(
        await commitClaim(claim, [{ op: 'put', collection: 'totals', id: 't', doc: { n: 2 } }]),
      ).toBe(false);
      expect(await target.documents.get('totals', 't')).toEqual({ n: 1 });
    });

    it('rejects a document that is not JSON, naming where, and keeps the stored one', async () => {
      const target = await harness.create();
      await target.documents.put('users', 'u1', { n: 1 });
      await expect(target.documents.put('users', 'u1', { n: 2, f: () => 1 })).rejects.toSatisfy(
        isValidationError,
      );
      await expect(target.documents.put('users', 'u1', { n: 2, big: 10n })).rejects.toThrow('u1');
      await expect(
        target.commit('p', 1, [
          { op: 'put', collection: 'users', id: 'u1', doc: { n: Number.NaN } },
        ]),
      ).rejects.toSatisfy(isValidationError);
      expect(await target.documents.get('users', 'u1')).toEqual({ n: 1 });
      expect(await target.loadCheckpoint('p')).toBeUndefined();
    });

    it('rejects a filter or sort field that is not a plain name, naming the option', async () => {
      const target = await seeded();
      await expect(target.documents.find('users', { 'a.b': 1 })).rejects.toSatisfy(
        isValidationError,
      );
      await expect(target.documents.find('users', { $where: 1 })).rejects.toThrow('filter');
      await expect(
        target.documents.find('users', undefined, { sort: { field: "x') OR 1=1 --" } }),
      ).rejects.toThrow('options.sort.field');
    });
  });
}
