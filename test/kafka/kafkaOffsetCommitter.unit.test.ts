import type { CommitOptions, CommitOptionsPartition } from '@platformatic/kafka';
import { describe, expect, it, vi } from 'vitest';
import {
  type CommitTrack,
  type OffsetCommitClient,
  OffsetCommitter,
  pendingOffsets,
} from '../../src/kafka/kafkaOffsetCommitter.js';

const track = (partition: number, handled?: bigint): CommitTrack => ({
  key: `t:${partition}`,
  topic: 't',
  partition,
  handled,
  committed: undefined,
  revoked: false,
  carried: undefined,
});

/** A stand-in for the broker's group coordinator: records commits, answers committed offsets. */
class FakeGroup implements OffsetCommitClient {
  generationId = 1;
  requests: CommitOptions[] = [];
  groupCommitted = new Map<string, bigint[]>();
  /** While set, a commit waits for it: the test acts while the request is on the wire. */
  hold: Promise<void> | undefined;
  async commit(options: CommitOptions): Promise<void> {
    this.requests.push(options);
    await this.hold;
  }
  listCommittedOffsets(): Promise<Map<string, bigint[]>> {
    return Promise.resolve(this.groupCommitted);
  }
}

function setup(parts: CommitTrack[], group = new FakeGroup()) {
  const byKey = new Map(parts.map((p) => [p.key, p]));
  const state = { generation: 1 as number | undefined, active: true };
  const committed: CommitOptionsPartition[][] = [];
  const failures: unknown[] = [];
  const committer = new OffsetCommitter({
    intervalMs: 1,
    partitions: { values: () => byKey.values(), get: (k) => byKey.get(k) },
    client: () => group,
    generation: () => state.generation,
    mayCommit: () => state.active,
    stopping: () => false,
    onCommitted: (offsets) => committed.push(offsets.map((o) => ({ ...o }))),
    onFailed: (error) => failures.push(error),
  });
  return { committer, group, state, committed, failures, byKey };
}

const offsetsOf = (request: CommitOptions | undefined) =>
  request?.offsets.map((o) => `${o.topic}:${o.partition}@${o.offset}`);

describe('offset committer', () => {
  it('commits the offset after the last handled message, once', async () => {
    const { committer, group, committed } = setup([track(0, 4n), track(1)]);
    await committer.flush();
    await committer.flush();
    expect(group.requests.map(offsetsOf)).toEqual([['t:0@5']]);
    expect(committed).toHaveLength(1);
  });

  it('never commits below its own last commit, even for a partition taken back later', () => {
    const again = track(0, 2n);
    expect(pendingOffsets([again], new Map([['t:0', 6n]]))).toEqual([]);
    again.handled = 6n;
    expect(pendingOffsets([again], new Map([['t:0', 6n]]))).toEqual([
      { topic: 't', partition: 0, offset: 7n, leaderEpoch: -1 },
    ]);
  });

  it('does not go back when the partition comes back in a new generation behind its commit', async () => {
    const { committer, group, state, byKey } = setup([track(0, 4n)]);
    await committer.flush();
    state.generation = group.generationId = 2;
    byKey.set('t:0', track(0, 2n)); // refetched from an older group offset, handled again
    await committer.flush();
    expect(group.requests.map(offsetsOf)).toEqual([['t:0@5']]);
  });

  it('leaves out revoked partitions and those not past what they committed', () => {
    const revoked = { ...track(0, 9n), revoked: true };
    const done = { ...track(1, 3n), committed: 4n };
    expect(pendingOffsets([revoked, done], new Map())).toEqual([]);
  });

  it('commits nothing from another generation or with a lapsed lease, and catches up after', async () => {
    const { committer, group, state } = setup([track(0, 1n)]);
    group.generationId = 2; // the client is rejoining
    await committer.flush();
    state.active = false;
    group.generationId = 1;
    await committer.flush();
    expect(group.requests).toEqual([]);
    state.active = true;
    await vi.waitFor(() => expect(group.requests.map(offsetsOf)).toEqual([['t:0@2']]));
  });

  it('empties the request in flight when the member joins a new generation', async () => {
    const { committer, group, committed, byKey } = setup([track(0, 7n)]);
    let release!: () => void;
    group.hold = new Promise((resolve) => (release = resolve));
    const flushing = committer.flush();
    await vi.waitFor(() => expect(group.requests).toHaveLength(1));
    committer.joined(1); // the same generation keeps it
    expect(offsetsOf(group.requests[0])).toEqual(['t:0@8']);
    committer.joined(2); // the client resends this request under generation 2: nothing left in it
    expect(group.requests[0]?.offsets).toEqual([]);
    release();
    await flushing;
    expect(committed).toEqual([]);
    expect(byKey.get('t:0')?.committed).toBeUndefined();
  });

  it('adopts a carried offset only when the group has not committed past it', async () => {
    const behind = { ...track(0), carried: 10n };
    const overtaken = { ...track(1), carried: 10n };
    const group = new FakeGroup();
    group.groupCommitted.set('t', [5n, 20n]);
    const { committer } = setup([behind, overtaken], group);
    await committer.flush();
    expect(group.requests.map(offsetsOf)).toEqual([['t:0@11']]);
    expect(overtaken.handled).toBeUndefined();
    expect(overtaken.carried).toBeUndefined();
  });

  it('reports a failed commit and keeps the offsets for the next one', async () => {
    const { committer, group, failures } = setup([track(0, 0n)]);
    const commit = group.commit.bind(group);
    let failing = true;
    group.commit = async (options) => {
      if (failing) throw new Error('coordinator moved');
      return commit(options);
    };
    await committer.flush();
    expect(failures).toHaveLength(1);
    failing = false;
    await vi.waitFor(() => expect(group.requests.map(offsetsOf)).toEqual([['t:0@1']]));
  });
});
