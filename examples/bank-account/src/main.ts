import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createCommandHandler,
  isCommandRejectedError,
  isConcurrencyError,
  startProjection,
} from 'eventloom';
import { createSqliteEventStore, createSqliteProjectionTarget } from 'eventloom/sqlite';
import { balances } from './balances.js';
import { bankAccount } from './bankAccount.js';

// A fresh database file for each run (BANK_DATA keeps it somewhere you choose).
const folder = process.env.BANK_DATA ?? mkdtempSync(join(tmpdir(), 'eventloom-bank-'));
const store = createSqliteEventStore({ path: join(folder, 'bank.db') });
const handle = createCommandHandler({ store, decider: bankAccount });
const account = `account-${Date.now().toString(36)}`;

try {
  // 1. Commands: load the stream, decide, append with the loaded version as expected version.
  await handle(account, { type: 'Open', owner: 'ada', overdraftLimit: 50 });
  await handle(account, { type: 'Deposit', amount: 100 });
  const withdrawal = await handle(
    account,
    { type: 'Withdraw', amount: 30 },
    { idempotencyKey: 'atm-7-txn-1' },
  );
  console.log(`opened ${account}, deposited 100, withdrew 30: balance ${withdrawal.state.balance}`);

  // 2. The same command again with the same idempotency key appends nothing.
  const again = await handle(
    account,
    { type: 'Withdraw', amount: 30 },
    { idempotencyKey: 'atm-7-txn-1' },
  );
  assert.equal(again.idempotentReplay, true);
  assert.equal(again.state.balance, 70);
  console.log(
    `retried the withdrawal with the same idempotency key: nothing appended (balance ${again.state.balance})`,
  );

  // 3. Optimistic concurrency: a caller that read version 2 (say, from an ETag) is refused.
  try {
    await handle(account, { type: 'Deposit', amount: 5 }, { expectedVersion: 2 });
    assert.fail('a stale expectedVersion must be refused');
  } catch (error) {
    if (!isConcurrencyError(error)) throw error;
    console.log(
      `stale write refused: expected version ${error.expectedVersion}, actual ${error.actualVersion}`,
    );
  }

  // 4. The decider refuses what the rules forbid; nothing is appended.
  try {
    await handle(account, { type: 'Withdraw', amount: 1000 });
    assert.fail('an overdraft beyond the limit must be refused');
  } catch (error) {
    if (!isCommandRejectedError(error)) throw error;
    console.log(`command rejected: ${error.message}`);
  }

  // 5. A projection builds the read model; waitFor(position) reads our own write.
  const target = createSqliteProjectionTarget(store.database);
  const running = startProjection({ store, projection: balances, target });
  const last = await handle(account, { type: 'Deposit', amount: 12 });
  await running.waitFor(last.lastPosition);
  const row = await target.documents.get<{ owner: string; balance: number }>('balances', account);
  assert.equal(row?.balance, 82);
  console.log(`read model: ${row.owner} has ${row.balance}`);
  await running.stop();

  const events = await store.readStream(account);
  console.log(`stream ${account}: ${events.map((e) => `v${e.version} ${e.type}`).join(', ')}`);
  assert.equal(events.length, 4);
  console.log('bank-account example: ok');
} finally {
  await store.close();
  if (process.env.BANK_DATA === undefined) rmSync(folder, { recursive: true, force: true });
}
