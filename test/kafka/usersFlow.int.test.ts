import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createMemoryDocuments } from '../../src/core/memoryDocumentStore.js';
import type { DocumentStore } from '../../src/core/readModel.js';
import type { EventStore, Recorded } from '../../src/core/types.js';
import { startKafkaConsumer } from '../../src/kafka/kafkaConsumer.js';
import { startKafkaPublisher } from '../../src/kafka/kafkaPublisher.js';
import { createProcessedEvents, onceByEventId } from '../../src/kafka/processedEvents.js';
import { createSqliteProjectionTarget } from '../../src/sqlite/sqliteDocumentStore.js';
import { createSqliteEventStore } from '../../src/sqlite/sqliteEventStore.js';
import { serviceAvailable } from '../support/services.js';
import { BROKERS, KafkaTestKit, type FixtureProcess, runFixture } from './kafkaTestKit.js';
import { applyActivity, applyDirectory, prng, type UserEvent, UserService } from './usersDomain.js';

const available = await serviceAvailable('kafka');

/** The read model a service should have: its projection folded over the whole event log. */
async function fold(
  store: EventStore,
  apply: (e: Recorded<UserEvent>, docs: DocumentStore) => Promise<void>,
  collection: string,
): Promise<Record<string, unknown>> {
  const docs = createMemoryDocuments();
  for (const e of await store.readAll()) await apply(e as Recorded<UserEvent>, docs.async);
  return Object.fromEntries(
    docs.target ? (await docs.target.findEntries(collection)).map((x) => [x.id, x.doc]) : [],
  );
}

describe.skipIf(!available)('users topic end to end', () => {
  const kit = new KafkaTestKit();
  const dir = mkdtempSync(join(tmpdir(), 'eventloom-users-'));
  const children: FixtureProcess[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    await Promise.all(children.map((c) => c.kill()));
    for (const c of cleanups) await c();
    await kit.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('two consumer services build read models identical to the event log, one of them killed and restarted mid-way', async () => {
    const store = createSqliteEventStore({ path: ':memory:' });
    cleanups.push(() => store.close());
    const users = new UserService(store, prng(42));
    const topic = kit.topicName('users');

    // The user-management service's events go to the users topic, three partitions.
    const publisher = startKafkaPublisher({
      store,
      brokers: BROKERS,
      name: 'users-publisher',
      topicFor: () => topic,
      createTopics: { partitions: 3, replicationFactor: 1 },
    });
    cleanups.push(() => publisher.stop());
    await users.create(40);
    await users.act(200);
    await publisher.waitFor(await store.headPosition());

    // Service 2 ("user-activity") in this process, read model in memory.
    const activityDocs = createMemoryDocuments();
    const activityGroup = kit.groupName('user-activity');
    const activity = startKafkaConsumer<UserEvent>({
      brokers: BROKERS,
      groupId: activityGroup,
      topics: [topic],
      handler: onceByEventId(
        createProcessedEvents({ target: activityDocs.target, name: 'user-activity' }),
        applyActivity,
      ),
    });
    cleanups.push(() => activity.stop());

    // Service 1 ("user-directory") in a child process, read model in SQLite; killed mid-way.
    const directoryPath = join(dir, 'directory.db');
    const directoryGroup = kit.groupName('user-directory');
    const args = [directoryPath, topic, directoryGroup, 'user-directory-1'];
    const first = runFixture('usersConsumerProcess.ts', args);
    children.push(first);
    await first.waitForLine(() => first.lines.length >= 80);
    await first.kill(); // SIGKILL: handlers in flight, offsets not committed
    const appliedBeforeKill = first.lines.filter((l) => l.startsWith('applied')).length;

    // The user service keeps going while the directory service is down.
    await users.create(10);
    await users.act(200);
    const head = await store.headPosition();
    expect(appliedBeforeKill).toBeLessThan(head);

    const second = runFixture('usersConsumerProcess.ts', args);
    children.push(second);
    await publisher.waitFor(head);
    await kit.waitForGroup(directoryGroup, topic, 40_000);
    await kit.waitForGroup(activityGroup, topic, 20_000);
    await second.kill();

    const db = new BetterSqlite3(directoryPath, { readonly: true });
    const directory = Object.fromEntries(
      (await createSqliteProjectionTarget(db).findEntries('users')).map((x) => [x.id, x.doc]),
    );
    db.close();
    expect(directory).toEqual(await fold(store, applyDirectory, 'users'));
    expect(Object.keys(directory).length).toBeGreaterThan(10);

    const activityModel = Object.fromEntries(
      (await activityDocs.target.findEntries('activity')).map((x) => [x.id, x.doc]),
    );
    expect(activityModel).toEqual(await fold(store, applyActivity, 'activity'));

    // Every event applied exactly once across both directory processes, redeliveries skipped.
    const applied = [...first.lines, ...second.lines].filter((l) => l.startsWith('applied'));
    expect(applied).toHaveLength(head);
    expect(new Set(applied).size).toBe(head);
  });
});
