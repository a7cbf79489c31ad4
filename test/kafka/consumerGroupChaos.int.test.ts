import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createMemoryEventStore } from '../../src/core/memoryEventStore.js';
import { startKafkaPublisher } from '../../src/kafka/kafkaPublisher.js';
import { createSqliteProjectionTarget } from '../../src/sqlite/sqliteDocumentStore.js';
import { serviceAvailable } from '../support/services.js';
import { BROKERS, type FixtureProcess, KafkaTestKit, runFixture } from './kafkaTestKit.js';
import { prng } from './usersDomain.js';

const available = await serviceAvailable('kafka');

const STREAMS = 24;
const PER_STREAM = 50;
const PARTITIONS = 6;
const SESSION_TIMEOUT_MS = 6000; // the member fixture's; the broker's minimum by default

describe.skipIf(!available)('Kafka consumer group under chaos', () => {
  const kit = new KafkaTestKit();
  const dir = mkdtempSync(join(tmpdir(), 'eventloom-chaos-'));
  const members: FixtureProcess[] = [];
  afterAll(async () => {
    for (const m of members) {
      if (m.child.signalCode === null && m.child.exitCode === null) m.child.kill('SIGCONT');
      await m.kill();
    }
    await kit.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies every event exactly once and never moves a committed offset back while members crash, freeze and join', async () => {
    const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 100_000);
    const rnd = prng(seed);
    process.stdout.write(`chaos seed ${seed} (rerun with CHAOS_SEED=${seed})\n`);
    const topic = await kit.createTopic('chaos', PARTITIONS);
    const groupId = kit.groupName('chaos');
    const path = join(dir, 'read-model.db');
    // Creates the schema once, before members race to.
    const model = new BetterSqlite3(path);
    model.pragma('journal_mode = WAL');
    const target = createSqliteProjectionTarget(model);

    // Committed offsets over time, read by the admin API: none may go back.
    const backwards: string[] = [];
    const lastSeen: bigint[] = Array.from({ length: PARTITIONS }, () => -1n);
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const committed = await kit.committedOffsets(groupId, topic);
        committed.forEach((o, p) => {
          const before = lastSeen[p] ?? -1n;
          if (o < before) backwards.push(`partition ${p}: ${before} -> ${o}`);
          if (o > before) lastSeen[p] = o;
        });
        await new Promise((r) => setTimeout(r, 150)); // a sampling rate, not synchronisation
      }
    })();

    const spawn = (): FixtureProcess => {
      const m = runFixture('chaosMember.ts', [path, topic, groupId]);
      members.push(m);
      return m;
    };
    const alive = (): FixtureProcess[] =>
      members.filter((m) => m.child.exitCode === null && m.child.signalCode === null);
    const applied = (): number =>
      members.reduce((n, m) => n + m.lines.filter((l) => l.startsWith('applied')).length, 0);

    // Events are produced while the group works.
    const store = createMemoryEventStore();
    const publisher = startKafkaPublisher({ store, brokers: BROKERS, topicFor: () => topic });
    const producing = (async () => {
      for (let n = 1; n <= PER_STREAM; n++) {
        for (let s = 0; s < STREAMS; s++) {
          await store.appendToStream(`stream-${s}`, [{ type: 'Counted', data: { n } }]);
        }
        await new Promise((r) => setTimeout(r, 250)); // pacing: events keep arriving during the chaos
      }
    })();

    for (let i = 0; i < 3; i++) spawn();
    await Promise.all(members.map((m) => m.waitForLine((l) => l.startsWith('assigned'))));
    const total = STREAMS * PER_STREAM;
    const pick = (): FixtureProcess => {
      const candidates = alive();
      return candidates[Math.floor(rnd() * candidates.length)] as FixtureProcess;
    };

    // 1. A crash: no finally, no commit, no leave.
    await expect.poll(applied, { timeout: 30_000 }).toBeGreaterThan(total * 0.1);
    await pick().kill();
    spawn();
    // 2. A member frozen past its session timeout, then resumed: it must not commit or
    //    apply over the work of the partitions' new owners.
    await expect.poll(applied, { timeout: 30_000 }).toBeGreaterThan(total * 0.25);
    const frozen = pick();
    frozen.child.kill('SIGSTOP');
    const frozenAt = Date.now();
    spawn();
    // Others take over the frozen member's partitions once the broker expels it.
    await expect
      .poll(() => Date.now() - frozenAt > SESSION_TIMEOUT_MS + 2000, { timeout: 20_000 })
      .toBe(true);
    frozen.child.kill('SIGCONT');
    // 3. Another crash, and a member added late.
    await expect.poll(applied, { timeout: 30_000 }).toBeGreaterThan(total * 0.6);
    if (rnd() < 0.5) await pick().kill();
    spawn();

    await producing;
    await publisher.waitFor(await store.headPosition());
    await publisher.stop();
    await kit.waitForGroup(groupId, topic, 45_000);
    watching = false;
    await watcher;

    const versions = await target.documents.find<{ version: number; outOfOrder: number }>(
      'versions',
    );
    expect(versions).toHaveLength(STREAMS);
    expect(versions.map((v) => v.version)).toEqual(versions.map(() => PER_STREAM));
    expect(versions.map((v) => v.outOfOrder)).toEqual(versions.map(() => 0));
    expect((await target.documents.find('eventloom_processed_events')).length).toBe(total);
    expect(backwards).toEqual([]);
    model.close();
  }, 120_000);
});
