import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { streamCategory } from 'eventloom';
import { startKafkaPublisher } from 'eventloom/kafka';
import { createSqliteEventStore } from 'eventloom/sqlite';
import { startBalanceService } from './balanceService.js';

const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
// Topics are `<prefix>.<category>`; a fresh prefix per run keeps runs apart on a shared broker.
const prefix = process.env.KAFKA_TOPIC_PREFIX ?? `example${Date.now().toString(36)}`;
const topic = `${prefix}.account`;
const folder = mkdtempSync(join(tmpdir(), 'eventloom-kafka-'));

async function until(what: string, check: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// The application: its store is the outbox, and the publisher follows it.
const store = createSqliteEventStore({ path: join(folder, 'app.db') });
const publisher = startKafkaPublisher({
  store,
  brokers,
  topicFor: (event) => `${prefix}.${streamCategory(event.streamId)}`,
  createTopics: { partitions: 3 },
});

try {
  await store.appendToStream('account-ada', [
    { type: 'AccountOpened', data: { owner: 'ada' } },
    { type: 'MoneyDeposited', data: { amount: 100 } },
    { type: 'MoneyWithdrawn', data: { amount: 30 } },
  ]);
  await store.appendToStream('account-bob', [
    { type: 'AccountOpened', data: { owner: 'bob' } },
    { type: 'MoneyDeposited', data: { amount: -5 } }, // poison: the service refuses it
    { type: 'MoneyDeposited', data: { amount: 7 } },
  ]);
  const { lastPosition } = await store.appendToStream('account-ada', [
    { type: 'MoneyDeposited', data: { amount: 1 } },
  ]);
  await publisher.waitFor(lastPosition);
  console.log(`published ${lastPosition} events to ${topic} (key: the stream id)`);

  // The consumer service, in its own consumer group with its own database.
  const service = startBalanceService({
    brokers,
    topic,
    groupId: `${prefix}-balances`,
    databasePath: join(folder, 'balances.db'),
  });
  await until(
    'the balances',
    async () =>
      (await service.balance('account-ada')) === 71 && (await service.balance('account-bob')) === 7,
  );
  console.log(
    `balances: ada ${await service.balance('account-ada')}, bob ${await service.balance('account-bob')}`,
  );
  await until('the dead letter', async () => service.deadLettered() === 1);
  console.log(`1 poison event went to ${topic}.dlq after 3 attempts; the others flowed on`);
  await service.close();

  // Reading the whole topic again (a new group starts at the earliest offset) changes nothing:
  // every event id is already recorded next to the balances.
  const replay = startBalanceService({
    brokers,
    topic,
    groupId: `${prefix}-balances-replay`,
    databasePath: join(folder, 'balances.db'),
  });
  await until(
    'the replay',
    async () => replay.consumer.status().handled + replay.deadLettered() >= lastPosition,
  );
  assert.equal(await replay.balance('account-ada'), 71);
  assert.equal(await replay.balance('account-bob'), 7);
  console.log(
    `replayed the topic in a new group (${replay.consumer.status().handled} handled, the poison one dead-lettered again): balances unchanged, each event applied once`,
  );
  await replay.close();
  console.log('kafka-consumer example: ok');
} finally {
  await publisher.stop();
  await store.close();
  rmSync(folder, { recursive: true, force: true });
}
