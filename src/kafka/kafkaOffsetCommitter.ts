import type {
  CommitOptions,
  CommitOptionsPartition,
  ListCommitsOptions,
  Offsets,
} from '@platformatic/kafka';

/** What the committer knows of a partition: what is handled, committed and carried over. */
export interface CommitTrack {
  key: string;
  topic: string;
  partition: number;
  /** Offset of the last message handled or dead-lettered. */
  handled: bigint | undefined;
  /** Last committed offset (the next one to read). */
  committed: bigint | undefined;
  /** The partition belongs to someone else now: what is handled here is not committed. */
  revoked: boolean;
  /**
   * Offset of a message the predecessor finished after the generation changed: committed for
   * this owner once the group's committed offset shows nobody got past it in between.
   */
  carried: bigint | undefined;
}

/** The part of the Kafka consumer client that commits (a fake in unit tests). */
export interface OffsetCommitClient {
  readonly generationId: number;
  commit(options: CommitOptions): Promise<void>;
  listCommittedOffsets(options: ListCommitsOptions): Promise<Offsets>;
}

export interface OffsetCommitterSettings {
  /** Offsets of handled messages are committed at most this often. */
  intervalMs: number;
  partitions: { values(): Iterable<CommitTrack>; get(key: string): CommitTrack | undefined };
  /** The session's client, undefined between sessions. */
  client: () => OffsetCommitClient | undefined;
  /** The generation this member's assignment belongs to. */
  generation: () => number | undefined;
  /** False while the membership lease has lapsed: commit nothing until it is renewed. */
  mayCommit: () => boolean;
  stopping: () => boolean;
  onCommitted: (offsets: CommitOptionsPartition[]) => void;
  /** The offsets stay pending and go with the next commit. */
  onFailed: (error: unknown) => void;
}

/**
 * The offsets to commit: each owned partition's next offset after what it handled, unless
 * it is not past what was committed — by this owner, or by this process in any generation.
 */
export function pendingOffsets(
  partitions: Iterable<CommitTrack>,
  committedHigh: ReadonlyMap<string, bigint>,
): CommitOptionsPartition[] {
  const out: CommitOptionsPartition[] = [];
  for (const st of partitions) {
    if (st.revoked || st.handled === undefined) continue;
    const next = st.handled + 1n;
    const high = committedHigh.get(st.key);
    if (
      (st.committed === undefined || next > st.committed) &&
      (high === undefined || next > high)
    ) {
      out.push({ topic: st.topic, partition: st.partition, offset: next, leaderEpoch: -1 });
    }
  }
  return out;
}

/**
 * Commits handled offsets, coalesced with one request in flight. Only the owner in the
 * current generation commits, never below its own last commit, and a request made for an
 * earlier generation is emptied before the client resends it after a rejoin.
 */
export class OffsetCommitter {
  readonly #settings: OffsetCommitterSettings;
  #timer: NodeJS.Timeout | undefined;
  #committing: Promise<void> | undefined;
  #again = false;
  /** Highest offset this process committed per partition, across generations. */
  readonly #high = new Map<string, bigint>();
  /** The commit request on the wire and the generation it was made for. */
  #inflight: { generation: number; offsets: CommitOptionsPartition[] } | undefined;

  constructor(settings: OffsetCommitterSettings) {
    this.#settings = settings;
  }

  /** The flush under way, if any. */
  get committing(): Promise<void> | undefined {
    return this.#committing;
  }

  /** Commits what is pending now (after the one in flight, if any). */
  flush(): Promise<void> {
    this.cancelTimer();
    if (this.#committing) {
      this.#again = true;
      return this.#committing;
    }
    this.#committing = (async () => {
      do {
        this.#again = false;
        await this.#commitOnce();
      } while (this.#again);
    })().finally(() => (this.#committing = undefined));
    return this.#committing;
  }

  /** Commits within `delay` unless a commit is scheduled already. */
  schedule(delay = this.#settings.intervalMs): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.flush();
    }, delay);
  }

  cancelTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * The member joined `generation`. The client rejoins inside a failed commit and then resends
   * the same request under the new generation: offsets of a partition that may have moved on
   * since. Empty it here (this runs before the resend); the new generation commits its own.
   */
  joined(generation: number | undefined): void {
    if (this.#inflight && this.#inflight.generation !== generation) {
      this.#inflight.offsets.length = 0;
    }
  }

  async #commitOnce(): Promise<void> {
    const s = this.#settings;
    const c = s.client();
    if (!c) return;
    const generation = s.generation();
    // Only the owner in the current generation commits; the client may be rejoining.
    if (!s.mayCommit() || generation === undefined || c.generationId !== generation) {
      if (!s.stopping()) this.schedule();
      return;
    }
    try {
      await this.#adoptCarried(c);
      const offsets = pendingOffsets(s.partitions.values(), this.#high);
      if (offsets.length === 0) return;
      this.#inflight = { generation, offsets };
      await c.commit({ offsets });
      // `joined` empties the request when the generation changed under it.
      if (offsets.length === 0) return;
      for (const o of offsets) {
        const key = `${o.topic}:${o.partition}`;
        const st = s.partitions.get(key);
        if (st && (st.committed === undefined || o.offset > st.committed)) st.committed = o.offset;
        const high = this.#high.get(key);
        if (high === undefined || o.offset > high) this.#high.set(key, o.offset);
      }
      s.onCommitted(offsets);
    } catch (error) {
      s.onFailed(error);
      if (!s.stopping()) this.schedule(Math.max(s.intervalMs, 500));
    } finally {
      this.#inflight = undefined;
    }
  }

  /**
   * Work finished under an earlier generation counts for a partition this member owns again
   * only if the group's committed offset is not past it: between the two generations the
   * partition may have been someone else's, and a commit must never go backwards. As the
   * current owner nobody else can commit to it meanwhile (the broker checks the generation).
   */
  async #adoptCarried(c: OffsetCommitClient): Promise<void> {
    const carried = [...this.#settings.partitions.values()].filter(
      (st) => !st.revoked && st.carried !== undefined,
    );
    if (carried.length === 0) return;
    const byTopic = new Map<string, number[]>();
    for (const st of carried) {
      byTopic.set(st.topic, [...(byTopic.get(st.topic) ?? []), st.partition]);
    }
    const committed = await c.listCommittedOffsets({
      topics: [...byTopic].map(([topic, list]) => ({ topic, partitions: list })),
    });
    for (const st of carried) {
      const offset = st.carried as bigint;
      st.carried = undefined;
      if (st.revoked || c.generationId !== this.#settings.generation()) continue;
      const at = committed.get(st.topic)?.[st.partition] ?? -1n;
      if (at <= offset && (st.handled === undefined || st.handled < offset)) st.handled = offset;
    }
  }
}
