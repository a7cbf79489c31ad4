/**
 * Each-once processing (createProcessedEvents), written once and run against every read-model
 * target: memory, SQLite, MongoDB and PostgreSQL.
 */
import { describe, expect, it } from 'vitest';
import type { DocumentStore, ProjectionTarget } from '../../src/core/readModel.js';
import { createProcessedEvents, onceByEventId } from '../../src/kafka/processedEvents.js';

export interface ProcessedEventsHarness {
  /** A fresh, empty target. */
  create(): Promise<ProjectionTarget>;
  /** Skip the suite (its service is unavailable; the reason was printed). */
  skip?: boolean;
}

const event = (id: string, user: string) => ({ id, position: 1, streamId: user });

/** A promise with its resolve function: a gate a test opens when it wants. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** Adds one to the stream's counter: a read-modify-write, so a double application shows. */
const increment =
  (streamId: string, beforeWrite?: () => Promise<void>) =>
  async (docs: DocumentStore): Promise<void> => {
    const doc = await docs.get<{ count: number }>('counters', streamId);
    await beforeWrite?.();
    await docs.put('counters', streamId, { count: (doc?.count ?? 0) + 1 });
  };

export function processedEventsContract(name: string, harness: ProcessedEventsHarness): void {
  describe.skipIf(harness.skip === true)(`processed events on ${name}`, () => {
    it('applies a redelivered event once: the counter counts each event id one time', async () => {
      const target = await harness.create();
      const processed = createProcessedEvents({ target, name: 'logins' });
      const countLogin = onceByEventId(
        processed,
        async (e: { id: string; streamId: string }, docs) => {
          const doc = await docs.get<{ logins: number }>('logins', e.streamId);
          await docs.put('logins', e.streamId, { logins: (doc?.logins ?? 0) + 1 });
        },
      );
      for (const e of [
        event('e1', 'ada'),
        event('e2', 'ada'),
        event('e1', 'ada'),
        event('e3', 'bob'),
        event('e2', 'ada'),
      ]) {
        await countLogin(e, undefined);
      }
      expect(await target.documents.get('logins', 'ada')).toEqual({ logins: 2 });
      expect(await target.documents.get('logins', 'bob')).toEqual({ logins: 1 });
      expect(await processed.has('e1')).toBe(true);
      expect(await processed.has('e9')).toBe(false);
    });

    it('records nothing when the change fails, so the redelivery applies it', async () => {
      const target = await harness.create();
      const processed = createProcessedEvents({ target, name: 'users' });
      await expect(
        processed.once(event('e1', 'ada'), async (docs) => {
          await docs.put('users', 'ada', { name: 'Ada' });
          throw new Error('read model rejected it');
        }),
      ).rejects.toThrow('read model rejected it');
      expect(await processed.has('e1')).toBe(false);
      expect(await target.documents.get('users', 'ada')).toBeUndefined();
      expect(
        await processed.once(event('e1', 'ada'), (docs) =>
          docs.put('users', 'ada', { name: 'Ada' }),
        ),
      ).toBe(true);
      expect(
        await processed.once(event('e1', 'ada'), (docs) =>
          docs.put('users', 'ada', { name: 'Nope' }),
        ),
      ).toBe(false);
      expect(await target.documents.get('users', 'ada')).toEqual({ name: 'Ada' });
    });

    it('keeps the ids of two read models in one target apart', async () => {
      const target = await harness.create();
      const a = createProcessedEvents({ target, name: 'a' });
      const b = createProcessedEvents({ target, name: 'b' });
      expect(await a.once(event('e1', 'x'), () => undefined)).toBe(true);
      expect(await b.once(event('e1', 'x'), () => undefined)).toBe(true);
      expect(await a.once(event('e1', 'x'), () => undefined)).toBe(false);
    });

    it('lets the change read its own pending writes, and deletes stay deleted', async () => {
      const target = await harness.create();
      const processed = createProcessedEvents({ target, name: 'pending' });
      await processed.once(event('e1', 'x'), async (docs) => {
        await docs.put('users', 'u1', { role: 'admin' });
        expect(await docs.get('users', 'u1')).toEqual({ role: 'admin' });
        expect(await docs.find('users', { role: 'admin' })).toEqual([{ role: 'admin' }]);
        await docs.delete('users', 'u1');
        expect(await docs.find('users')).toEqual([]);
      });
      await processed.once(event('e2', 'x'), (docs) => docs.put('users', 'u2', { role: 'x' }));
      await processed.once(event('e3', 'x'), (docs) => docs.delete('users', 'u2'));
      expect(await target.documents.find('users')).toEqual([]);
      expect(await target.documents.get('users', 'u2')).toBeUndefined();
      await processed.once(event('e4', 'x'), (docs) => docs.put('users', 'u2', { role: 'y' }));
      expect(await target.documents.find('users')).toEqual([{ role: 'y' }]);
    });

    it('applies two overlapping deliveries of one event once: exactly one of them commits', async () => {
      const target = await harness.create();
      const processed = createProcessedEvents({ target, name: 'overlap' });
      // Both deliveries read the counter before either commits: the race the check must win.
      let read = 0;
      const bothRead = gate();
      const afterBothRead = async (): Promise<void> => {
        if (++read === 2) bothRead.open();
        await bothRead.opened;
      };
      const results = await Promise.all([
        processed.once(event('e1', 's1'), increment('s1', afterBothRead)),
        processed.once(event('e1', 's1'), increment('s1', afterBothRead)),
      ]);
      expect(results.sort()).toEqual([false, true]);
      expect(await target.documents.get('counters', 's1')).toEqual({ count: 1 });
    });

    it('drops the late writes of a delivery paused while the event and later ones were applied elsewhere', async () => {
      const target = await harness.create();
      // Two members (two instances over one target): the first pauses mid-change, like a
      // process frozen past its session timeout, while the new owner carries on.
      const frozen = createProcessedEvents({ target, name: 'streams' });
      const owner = createProcessedEvents({ target, name: 'streams' });
      const resume = gate();
      const paused = gate();
      const late = frozen.once(
        event('e1', 's1'),
        increment('s1', async () => {
          paused.open();
          await resume.opened;
        }),
      );
      await paused.opened;
      expect(await owner.once(event('e1', 's1'), increment('s1'))).toBe(true);
      expect(await owner.once(event('e2', 's1'), increment('s1'))).toBe(true);
      resume.open();
      expect(await late).toBe(false);
      expect(await target.documents.get('counters', 's1')).toEqual({ count: 2 });
      expect(await owner.once(event('e3', 's1'), increment('s1'))).toBe(true);
      expect(await target.documents.get('counters', 's1')).toEqual({ count: 3 });
    });
  });
}
