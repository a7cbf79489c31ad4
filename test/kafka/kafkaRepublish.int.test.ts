import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigResourceTypes, IncrementalAlterConfigOperationTypes } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toEventJson } from '../../src/core/eventJson.js';
import { isValidationError } from '../../src/core/errors.js';
import type { EventStore } from '../../src/core/types.js';
import { startKafkaPublisher } from '../../src/kafka/kafkaPublisher.js';
import { republishParked } from '../../src/kafka/kafkaRepublish.js';
import { loadAppConfig } from '../../src/server/appConfig.js';
import { createSqliteEventStore } from '../../src/sqlite/sqliteEventStore.js';
import { eventTopicFor } from '../../src/workers/index.js';
import { serviceAvailable, uniqueName } from '../support/services.js';
import { BROKERS, KafkaTestKit } from './kafkaTestKit.js';

const available = await serviceAvailable('kafka');

/** Text that does not compress: the event is over the topic's limit as it is. */
const incompressible = (length: number): string =>
  Array.from({ length }, () => Math.random().toString(36).slice(2, 3)).join('');

describe.skipIf(!available)("republishing the Kafka publisher's parked events", () => {
  const kit = new KafkaTestKit();
  const dir = mkdtempSync(join(tmpdir(), 'eventloom-republish-'));
  const stores: EventStore[] = [];

  /** Raises (or lowers) a topic's max.message.bytes, as an operator would. */
  const setMaxMessageBytes = (topic: string, bytes: number) =>
    kit.admin.incrementalAlterConfigs({
      resources: [
        {
          resourceType: ConfigResourceTypes.TOPIC,
          resourceName: topic,
          configs: [
            {
              name: 'max.message.bytes',
              configOperation: IncrementalAlterConfigOperationTypes.SET,
              value: String(bytes),
            },
          ],
        },
      ],
    });

  /** A store whose publisher `name` parked its second event (too large for `topic`). */
  const withParked = async (store: EventStore, topic: string, name: string) => {
    await store.appendToStream('doc-1', [{ type: 'Small', data: { n: 1 } }]);
    await store.appendToStream('doc-2', [{ type: 'Huge', data: { text: incompressible(30_000) } }]);
    await store.appendToStream('doc-1', [{ type: 'Small', data: { n: 2 } }]);
    const publisher = startKafkaPublisher({
      store,
      brokers: BROKERS,
      name,
      topicFor: () => topic,
      createTopics: false,
    });
    await publisher.waitFor(3);
    await publisher.stop();
    expect((await store.checkpoints.listParked(name)).map((p) => p.event.type)).toEqual(['Huge']);
  };

  beforeAll(async () => {
    await kit.admin.listTopics();
  });
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close().catch(() => undefined)));
    await kit.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps an event parked while its topic still refuses it, and publishes and unparks it once the limit is raised', async () => {
    const store = createSqliteEventStore({ path: ':memory:' });
    stores.push(store);
    const topic = await kit.createTopic('raised', 1, { 'max.message.bytes': '20000' });
    await withParked(store, topic, 'pub');
    const huge = (await store.readAll())[1]!;

    const refused = await republishParked({
      store,
      brokers: BROKERS,
      name: 'pub',
      topicFor: () => topic,
    });
    expect(refused.republished).toEqual([]);
    expect(refused.failed.map(({ eventId, position }) => ({ eventId, position }))).toEqual([
      { eventId: huge.id, position: 2 },
    ]);
    expect(refused.failed[0]!.error).toMatch(/max\.message\.bytes/);
    expect(await store.checkpoints.listParked('pub')).toHaveLength(1);

    const none = await republishParked({
      store,
      brokers: BROKERS,
      name: 'pub',
      topicFor: () => topic,
      eventIds: ['not-an-event'],
    });
    expect(none).toEqual({ republished: [], failed: [], notParked: ['not-an-event'] });

    await setMaxMessageBytes(topic, 200_000);
    const done = await republishParked({
      store,
      brokers: BROKERS,
      name: 'pub',
      topicFor: () => topic,
    });
    expect(done).toEqual({
      republished: [{ eventId: huge.id, position: 2, topic }],
      failed: [],
      notParked: [],
    });
    expect(await store.checkpoints.listParked('pub')).toEqual([]);
    const messages = await kit.readTopic(topic);
    expect(messages.map((m) => m.headers['event-type'])).toEqual(['Small', 'Small', 'Huge']);
    const last = messages[2]!;
    expect(last.key).toBe('doc-2');
    expect(last.headers).toMatchObject({
      'event-id': huge.id,
      'stream-version': '1',
      position: '2',
    });
    // The very message the publisher would have sent.
    expect(last.value).toBe(JSON.stringify(toEventJson(huge)));
  });

  it('leaves every event parked, with the reason, when no broker can be reached', async () => {
    const store = createSqliteEventStore({ path: ':memory:' });
    stores.push(store);
    await store.appendToStream('doc-1', [
      { type: 'A', data: {} },
      { type: 'B', data: {} },
    ]);
    for (const event of await store.readAll()) {
      await store.checkpoints.park({
        subscription: 'away',
        event,
        reason: 'too large',
        attempts: 1,
        parkedAt: new Date(),
      });
    }
    const result = await republishParked({
      store,
      brokers: '127.0.0.1:1',
      name: 'away',
      createTopics: false,
    });
    expect(result.republished).toEqual([]);
    expect(result.failed.map((f) => f.position)).toEqual([1, 2]);
    for (const f of result.failed) expect(f.error).toMatch(/Cannot reach any Kafka broker/);
    expect(await store.checkpoints.listParked('away')).toHaveLength(2);
  });

  it('refuses bad options with the field and what it must be', async () => {
    const store = createSqliteEventStore({ path: ':memory:' });
    stores.push(store);
    const refusal = (options: object) =>
      republishParked({ store, brokers: BROKERS, ...options }).then(
        () => undefined,
        (e: unknown) => e,
      );
    const name = await refusal({ name: '' });
    expect(isValidationError(name) && name.message).toMatch(/options\.name: must be/);
    const ids = await refusal({ eventIds: [7] });
    expect(isValidationError(ids) && ids.message).toMatch(/options\.eventIds: must be a list/);
    const noStore = await republishParked({ brokers: BROKERS } as never).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isValidationError(noStore) && noStore.message).toMatch(/options\.store: must be/);
    const brokers = await republishParked({ store } as never).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isValidationError(brokers) && brokers.message).toMatch(/options\.brokers: is required/);
  });

  it("lists and republishes the reference app's parked events from the command line", async () => {
    const prefix = uniqueName('app').replace(/_/g, '-');
    const env = {
      ...process.env,
      EVENTLOOM_DATA: dir,
      KAFKA_BROKERS: BROKERS.join(','),
      KAFKA_TOPIC_PREFIX: prefix,
      LOG_LEVEL: 'warn',
    };
    const config = loadAppConfig(env, {});
    if (config.store.kind !== 'sqlite') throw new Error('the test expects the embedded store');
    const topicFor = eventTopicFor(prefix);
    const topic = topicFor({ streamId: 'doc-1' });
    kit.track(topic);
    await kit.admin.createTopics({
      topics: [topic],
      partitions: 1,
      replicas: 1,
      configs: [{ name: 'max.message.bytes', value: '20000' }],
    });
    // The app's store, as `eventloom start` opens it, and its publisher's default name.
    const store = createSqliteEventStore({ path: config.store.path });
    await withParked(store, topic, 'kafka-publisher');
    const huge = (await store.readAll())[1]!;
    await store.close();

    const eventloom = (...args: string[]) => {
      const r = spawnSync(
        process.execPath,
        [join(import.meta.dirname, '../../bin/eventloom.js'), ...args],
        {
          encoding: 'utf8',
          env,
          timeout: 60_000,
        },
      );
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    const listed = eventloom('kafka', 'parked', 'list');
    expect(listed.code, listed.stderr).toBe(0);
    const line = JSON.parse(listed.stdout) as Record<string, unknown>;
    expect(line).toMatchObject({ eventId: huge.id, position: 2, streamId: 'doc-2', type: 'Huge' });
    expect(line.reason).toMatch(/max\.message\.bytes/);

    const unknown = eventloom('kafka', 'parked', 'republish', '--id', 'nope');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("not parked under 'kafka-publisher': nope");

    await setMaxMessageBytes(topic, 200_000);
    const republished = eventloom('kafka', 'parked', 'republish');
    expect(republished.code, republished.stderr).toBe(0);
    expect(JSON.parse(republished.stdout)).toEqual({
      republished: [{ eventId: huge.id, position: 2, topic }],
      failed: [],
      notParked: [],
    });
    expect(eventloom('kafka', 'parked', 'list').stdout).toBe('');
    expect((await kit.readTopic(topic)).map((m) => m.headers['event-id'])).toContain(huge.id);

    const noBrokers = spawnSync(
      process.execPath,
      [join(import.meta.dirname, '../../bin/eventloom.js'), 'kafka', 'parked', 'republish'],
      { encoding: 'utf8', env: { ...env, KAFKA_BROKERS: '' }, timeout: 60_000 },
    );
    expect(noBrokers.status).toBe(1);
    expect(noBrokers.stderr).toContain('KAFKA_BROKERS is not set');
  });
});
