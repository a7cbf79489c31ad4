/**
 * The CheckpointStore contract, written once and run against every implementation (memory,
 * SQLite, MongoDB). Each implementation's test file calls `checkpointStoreContract` with a
 * factory that returns a fresh, empty checkpoint store.
 */
import { describe, expect, it } from 'vitest';
import type { CheckpointStore, ParkedEvent, RecordedEvent } from '../../src/core/types.js';

export interface CheckpointStoreHarness {
  create(): Promise<CheckpointStore>;
}

const event = (position: number, id = `e-${position}`): RecordedEvent => ({
  id,
  streamId: 'order-1',
  type: 'OrderPlaced',
  data: { total: position, placedAt: '2024-01-02T03:04:05.000Z' },
  metadata: { correlationId: 'c-1' },
  version: position,
  position,
  recordedAt: new Date('2024-01-02T03:04:05.000Z'),
});

const parked = (subscription: string, position: number, attempts = 3): ParkedEvent => ({
  subscription,
  event: event(position),
  reason: `handler failed at ${position}`,
  attempts,
  parkedAt: new Date('2024-02-03T04:05:06.000Z'),
});

export function checkpointStoreContract(name: string, harness: CheckpointStoreHarness): void {
  describe(`CheckpointStore contract: ${name}`, () => {
    it('has no checkpoint for a subscription that never saved one', async () => {
      const checkpoints = await harness.create();
      expect(await checkpoints.load('emails')).toBeUndefined();
    });

    it('returns the last saved position of each subscription', async () => {
      const checkpoints = await harness.create();
      await checkpoints.save('emails', 3);
      await checkpoints.save('emails', 8);
      await checkpoints.save('billing', 5);
      expect(await checkpoints.load('emails')).toBe(8);
      expect(await checkpoints.load('billing')).toBe(5);
    });

    it('stores position 0 as a checkpoint, not as none', async () => {
      const checkpoints = await harness.create();
      await checkpoints.save('emails', 0);
      expect(await checkpoints.load('emails')).toBe(0);
    });

    it('forgets a reset checkpoint and leaves the others', async () => {
      const checkpoints = await harness.create();
      await checkpoints.save('emails', 8);
      await checkpoints.save('billing', 5);
      await checkpoints.reset('emails');
      await checkpoints.reset('never-saved');
      expect(await checkpoints.load('emails')).toBeUndefined();
      expect(await checkpoints.load('billing')).toBe(5);
    });

    it('lists parked events in position order, with their event, reason and dates', async () => {
      const checkpoints = await harness.create();
      await checkpoints.park(parked('emails', 9));
      await checkpoints.park(parked('billing', 2));
      await checkpoints.park(parked('emails', 4));
      expect(await checkpoints.listParked('emails')).toEqual([
        parked('emails', 4),
        parked('emails', 9),
      ]);
      expect(await checkpoints.listParked()).toEqual([
        parked('billing', 2),
        parked('emails', 4),
        parked('emails', 9),
      ]);
      const [first] = await checkpoints.listParked('emails');
      expect(first?.event.recordedAt).toBeInstanceOf(Date);
      expect(first?.parkedAt).toBeInstanceOf(Date);
    });

    it('keeps one parked entry per subscription and event, the latest parking winning', async () => {
      const checkpoints = await harness.create();
      await checkpoints.park(parked('emails', 4, 1));
      await checkpoints.park(parked('emails', 4, 5));
      expect(await checkpoints.listParked('emails')).toEqual([parked('emails', 4, 5)]);
    });

    it('unparks one entry of one subscription, and unparking a missing entry is a no-op', async () => {
      const checkpoints = await harness.create();
      await checkpoints.park(parked('emails', 4));
      await checkpoints.park(parked('billing', 4));
      await checkpoints.unpark('emails', 'e-4');
      await checkpoints.unpark('emails', 'e-404');
      expect(await checkpoints.listParked('emails')).toEqual([]);
      expect(await checkpoints.listParked('billing')).toEqual([parked('billing', 4)]);
    });

    it('is not changed by a caller mutating a parked or listed entry', async () => {
      const checkpoints = await harness.create();
      const entry = parked('emails', 4);
      await checkpoints.park(entry);
      entry.reason = 'changed';
      (entry.event.data as { total: number }).total = -1;
      const [listed] = await checkpoints.listParked('emails');
      if (listed) listed.reason = 'changed again';
      expect(await checkpoints.listParked('emails')).toEqual([parked('emails', 4)]);
    });
  });
}
