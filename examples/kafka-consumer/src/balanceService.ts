import Database from 'better-sqlite3';
import { createSqliteProjectionTarget } from 'eventloom/sqlite';
import {
  createProcessedEvents,
  type KafkaConsumer,
  onceByEventId,
  startKafkaConsumer,
} from 'eventloom/kafka';
import type { AccountEvent } from './events.js';

export interface BalanceService {
  consumer: KafkaConsumer;
  balance(account: string): Promise<number | undefined>;
  deadLettered(): number;
  close(): Promise<void>;
}

/**
 * A service with a database of its own: it reads account events from Kafka in a consumer
 * group and keeps each account's balance. Every event's id is recorded in the same SQLite
 * transaction as its writes, so a redelivered event (after a crash or a rebalance) is skipped.
 */
export function startBalanceService(options: {
  brokers: string;
  topic: string;
  groupId: string;
  databasePath: string;
}): BalanceService {
  const db = new Database(options.databasePath);
  const target = createSqliteProjectionTarget(db);
  const processed = createProcessedEvents({ target, name: 'balances' });
  let deadLettered = 0;
  const consumer = startKafkaConsumer<AccountEvent>({
    brokers: options.brokers,
    groupId: options.groupId,
    topics: [options.topic],
    // Three tries, then the message goes to `<topic>.dlq` and the partition moves on.
    retry: { maxAttempts: 3, initialDelayMs: 50, maxDelayMs: 200 },
    onEvent: (notice) => {
      if (notice.kind === 'dead-lettered') deadLettered++;
    },
    handler: onceByEventId(processed, async (event, docs) => {
      const row = await docs.get<{ balance: number }>('balances', event.streamId);
      switch (event.type) {
        case 'AccountOpened':
          await docs.put('balances', event.streamId, { owner: event.data.owner, balance: 0 });
          break;
        case 'MoneyDeposited':
        case 'MoneyWithdrawn': {
          if (event.data.amount <= 0)
            throw new Error(`amount must be positive: ${event.data.amount}`);
          const sign = event.type === 'MoneyDeposited' ? 1 : -1;
          await docs.put('balances', event.streamId, {
            ...row,
            balance: (row?.balance ?? 0) + sign * event.data.amount,
          });
          break;
        }
      }
    }),
  });
  return {
    consumer,
    balance: async (account) =>
      (await target.documents.get<{ balance: number }>('balances', account))?.balance,
    deadLettered: () => deadLettered,
    async close() {
      await consumer.stop();
      db.close();
    },
  };
}
