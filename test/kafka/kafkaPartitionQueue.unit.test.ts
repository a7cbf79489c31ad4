import { describe, expect, it } from 'vitest';
import type { InMessage } from '../../src/kafka/kafkaDeadLetters.js';
import { partitionKey, PartitionQueue } from '../../src/kafka/kafkaPartitionQueue.js';

const message = (partition: number, offset: number): InMessage =>
  ({
    topic: 't',
    partition,
    offset: BigInt(offset),
    key: 'k',
    value: Buffer.from('{}'),
    headers: new Map(),
  }) as unknown as InMessage;

function queueWith(maxQueued: number, partitions: number[]): PartitionQueue {
  const q = new PartitionQueue(maxQueued);
  q.assign(
    new Map(partitions.map((p) => [partitionKey('t', p), { topic: 't', partition: p }])),
    false,
  );
  return q;
}

const queuedOffsets = (q: PartitionQueue, partition: number): number[] =>
  (q.get(partitionKey('t', partition))?.queue ?? []).map((m) => Number(m.offset));

describe('partition queue', () => {
  it('gives each partition its fair share of maxQueued', () => {
    const q = queueWith(4, [0, 1]);
    for (let o = 0; o < 3; o++) q.offer(message(0, o));
    q.offer(message(1, 0));
    q.offer(message(1, 1));
    expect(q.share()).toBe(2);
    expect(queuedOffsets(q, 0)).toEqual([0, 1]);
    expect(queuedOffsets(q, 1)).toEqual([0, 1]);
    expect(q.get(partitionKey('t', 0))?.droppedFrom).toBe(2n);
  });

  it("drops the rest of a partition's stream after a drop, even with room, until the drops are forgotten", () => {
    const q = queueWith(4, [0, 1]);
    for (let o = 0; o < 3; o++) q.offer(message(0, o));
    q.get(partitionKey('t', 0))?.queue.shift(); // handled: there is room again
    expect(q.offer(message(0, 3))).toBeUndefined();
    expect(queuedOffsets(q, 0)).toEqual([1]);
    q.forgetDrops(); // a fresh stream from the committed offset starts before the gap
    expect(q.offer(message(0, 1))).toBeUndefined(); // queued already
    expect(q.offer(message(0, 2))).toBeDefined();
    expect(queuedOffsets(q, 0)).toEqual([1, 2]);
  });

  it('waits for room only when it is full or every partition is dropping', () => {
    const q = queueWith(2, [0, 1]);
    q.offer(message(0, 0));
    q.offer(message(0, 1));
    q.offer(message(0, 2));
    expect(q.full()).toBe(false); // partition 1 can still take its share
    q.offer(message(0, 3));
    expect(q.skippedRun).toBe(3);
    q.offer(message(1, 0));
    expect(q.skippedRun).toBe(0);
    expect(q.full()).toBe(true); // two queued: maxQueued reached
  });

  it('starts every partition afresh in a new generation, after the revoked worker', async () => {
    const q = queueWith(4, [0]);
    const old = q.get(partitionKey('t', 0));
    if (!old) throw new Error('partition 0 not assigned');
    q.offer(message(0, 0));
    let finish!: () => void;
    old.running = new Promise((resolve) => (finish = resolve));
    q.assign(new Map([[partitionKey('t', 0), { topic: 't', partition: 0 }]]), true);
    const next = q.get(partitionKey('t', 0));
    expect(old.revoked && old.closing && old.abort.signal.aborted).toBe(true);
    expect(next).not.toBe(old);
    expect(next?.queue).toEqual([]);
    expect(next?.previous).toBe(old.running);
    finish();
    await next?.previous;
  });

  it('keeps a partition that stays assigned in the same generation and waits for the revoked ones', () => {
    const q = queueWith(4, [0, 1]);
    const kept = q.get(partitionKey('t', 0));
    const revoked = q.get(partitionKey('t', 1));
    if (!revoked) throw new Error('partition 1 not assigned');
    revoked.running = Promise.resolve();
    q.assign(new Map([[partitionKey('t', 0), { topic: 't', partition: 0 }]]), false);
    expect(q.get(partitionKey('t', 0))).toBe(kept);
    expect(q.get(partitionKey('t', 1))).toBeUndefined();
    expect(q.size).toBe(1);
    expect(q.workers()).toEqual([revoked.running]);
  });

  it('takes nothing for a partition it does not own or that is closing', () => {
    const q = queueWith(4, [0]);
    expect(q.offer(message(5, 0))).toBeUndefined();
    q.closeAll();
    expect(q.offer(message(0, 0))).toBeUndefined();
    expect(q.queued()).toBe(0);
  });
});
