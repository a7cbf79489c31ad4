import { WaitList } from '../core/async.js';
import type { InMessage } from './kafkaDeadLetters.js';
import type { TopicPartition } from './kafkaConsumerTypes.js';
import type { CommitTrack } from './kafkaOffsetCommitter.js';

export const partitionKey = (topic: string, partition: number): string => `${topic}:${partition}`;

/** One assigned partition: its queue of fetched messages, its worker and its progress. */
export interface PartitionState extends CommitTrack {
  queue: InMessage[];
  /** Messages below this offset were queued already: a refetch after a rebalance skips them. */
  nextOffset: bigint | undefined;
  /** Finish the message in hand, start no other (stop, rebalance, reconnect). */
  closing: boolean;
  /**
   * Offset of the first message dropped from the current stream because the partition's share
   * of the queue was full: fetch it again later. Until then the stream's later messages of the
   * partition are dropped too, even once there is room: taking one would step over the gap, and
   * the refetch would skip the dropped ones as already queued — lost, then committed past.
   */
  droppedFrom: bigint | undefined;
  abort: AbortController;
  running: Promise<void> | undefined;
  /** The worker of a revoked predecessor of this partition, still finishing its message. */
  previous: Promise<void> | undefined;
}

/**
 * The consumer's assigned partitions and the messages fetched for them. The fetch stream mixes
 * partitions; each gets a fair share of `maxQueued`, so one busy partition cannot fill the
 * queue and starve the others behind it in the stream.
 */
export class PartitionQueue {
  readonly #partitions = new Map<string, PartitionState>();
  /** Workers of revoked partitions still finishing, by key, until a successor is assigned. */
  readonly #previousWorkers = new Map<string, Promise<void>>();
  readonly #space = new WaitList();
  readonly #maxQueued: number;
  /** Messages dropped in a row because their partition's share was full. */
  skippedRun = 0;
  /** The session is ending: partitions assigned now only finish and commit, they take no messages. */
  closingAll = false;

  constructor(maxQueued: number) {
    this.#maxQueued = maxQueued;
  }

  get size(): number {
    return this.#partitions.size;
  }

  get(key: string): PartitionState | undefined {
    return this.#partitions.get(key);
  }

  values(): IterableIterator<PartitionState> {
    return this.#partitions.values();
  }

  /** Each partition's fair part of `maxQueued`, so one partition cannot fill the queue. */
  share(): number {
    return Math.max(1, Math.floor(this.#maxQueued / Math.max(1, this.#partitions.size)));
  }

  /** Messages queued over all partitions. */
  queued(): number {
    let n = 0;
    for (const st of this.#partitions.values()) n += st.queue.length;
    return n;
  }

  /** Whether the stream's next message of some partition would be queued rather than dropped. */
  anyCanTake(): boolean {
    for (const st of this.#partitions.values()) {
      if (!st.closing && st.droppedFrom === undefined && st.queue.length < this.share()) {
        return true;
      }
    }
    return false;
  }

  /** Whether the reader should wait for room before reading on (see the intake loop). */
  full(): boolean {
    return (
      this.queued() >= this.#maxQueued || (this.skippedRun >= this.#maxQueued && !this.anyCanTake())
    );
  }

  /** Queues a fetched message; returns its partition when it was queued, undefined when not. */
  offer(m: InMessage): PartitionState | undefined {
    const st = this.#partitions.get(partitionKey(m.topic, m.partition));
    if (!st || st.closing) return undefined; // not ours (any more), or shutting down
    if (st.nextOffset !== undefined && m.offset < st.nextOffset) return undefined; // refetched after a rebalance
    if (st.droppedFrom !== undefined || st.queue.length >= this.share()) {
      // Queuing it would crowd out the other partitions' messages behind it in the stream;
      // nextOffset stays, so it is fetched again once this partition has room.
      st.droppedFrom ??= m.offset;
      this.skippedRun++;
      return undefined;
    }
    this.skippedRun = 0;
    st.nextOffset = m.offset + 1n;
    st.queue.push(m);
    return st;
  }

  /**
   * Takes the assignment `wanted`. Partitions no longer wanted — all of them in a new
   * generation — are revoked: their worker finishes the message in hand and becomes the
   * `previous` of the partition's next owner here, which starts only after it.
   */
  assign(wanted: ReadonlyMap<string, TopicPartition>, newGeneration: boolean): void {
    for (const [key, st] of this.#partitions) {
      if (wanted.has(key) && !newGeneration) continue;
      st.closing = true;
      st.revoked = true;
      st.abort.abort();
      this.#partitions.delete(key);
      if (st.running) this.#previousWorkers.set(key, st.running);
    }
    for (const [key, tp] of wanted) {
      if (this.#partitions.has(key)) continue;
      const previous = this.#previousWorkers.get(key);
      this.#previousWorkers.delete(key);
      this.#partitions.set(key, {
        key,
        ...tp,
        queue: [],
        nextOffset: undefined,
        handled: undefined,
        committed: undefined,
        closing: this.closingAll,
        revoked: false,
        droppedFrom: undefined,
        abort: new AbortController(),
        running: undefined,
        previous,
        carried: undefined,
      });
    }
  }

  /** A fresh stream starts at the committed offsets, before anything dropped from the old one. */
  forgetDrops(): void {
    for (const st of this.#partitions.values()) st.droppedFrom = undefined;
    this.skippedRun = 0;
    this.releaseSpace();
  }

  /** Resolves at the next {@link releaseSpace}. */
  waitForSpace(): Promise<void> {
    return this.#space.wait();
  }

  releaseSpace(): void {
    this.#space.releaseAll();
  }

  /** No new messages and no retries or backoffs: the attempt in hand finishes. */
  closeAll(): void {
    for (const st of this.#partitions.values()) {
      st.closing = true;
      st.abort.abort();
    }
  }

  /** The workers still running, current and revoked. */
  workers(): Promise<void>[] {
    return [...this.#partitions.values()]
      .map((st) => st.running)
      .concat([...this.#previousWorkers.values()])
      .filter((w): w is Promise<void> => w !== undefined);
  }

  /** Gives every partition up (the session ended). */
  clear(): void {
    for (const st of this.#partitions.values()) {
      st.revoked = true;
      st.abort.abort();
    }
    this.#partitions.clear();
    this.#previousWorkers.clear();
  }
}
