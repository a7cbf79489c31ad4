import { createCommandHandler } from '../core/commandHandler.js';
import type { Decider } from '../core/decider.js';
import { CommandRejectedError, isCommandRejectedError } from '../core/errors.js';
import { rebuildProjection, startProjection } from '../core/projections.js';
import type { Projection } from '../core/readModel.js';
import { createSqliteProjectionTarget } from '../sqlite/sqliteDocumentStore.js';
import { createSqliteEventStore } from '../sqlite/sqliteEventStore.js';
import type { Logger } from '../core/logger.js';

type AccountEvent =
  | { type: 'AccountOpened'; data: { owner: string } }
  | { type: 'MoneyDeposited'; data: { amount: number } }
  | { type: 'MoneyWithdrawn'; data: { amount: number } };

type AccountCommand =
  | { type: 'Open'; owner: string }
  | { type: 'Deposit'; amount: number }
  | { type: 'Withdraw'; amount: number };

interface Account {
  open: boolean;
  balance: number;
}

const account: Decider<Account, AccountCommand, AccountEvent> = {
  initialState: () => ({ open: false, balance: 0 }),
  decide(command, state) {
    switch (command.type) {
      case 'Open':
        return state.open ? [] : [{ type: 'AccountOpened', data: { owner: command.owner } }];
      case 'Deposit':
        if (!state.open) throw new CommandRejectedError('Open the account before depositing');
        return [{ type: 'MoneyDeposited', data: { amount: command.amount } }];
      case 'Withdraw':
        if (command.amount > state.balance) {
          throw new CommandRejectedError(
            `Cannot withdraw ${command.amount}: the balance is ${state.balance}`,
          );
        }
        return [{ type: 'MoneyWithdrawn', data: { amount: command.amount } }];
    }
  },
  evolve(state, event) {
    switch (event.type) {
      case 'AccountOpened':
        return { ...state, open: true };
      case 'MoneyDeposited':
        return { ...state, balance: state.balance + event.data.amount };
      case 'MoneyWithdrawn':
        return { ...state, balance: state.balance - event.data.amount };
    }
  },
};

const balances: Projection = {
  name: 'demo-balances',
  collections: ['demo-balances'],
  async handle(event, docs) {
    const current = (await docs.get<{ balance: number; movements: number }>(
      'demo-balances',
      event.streamId,
    )) ?? {
      balance: 0,
      movements: 0,
    };
    const amount = (event.data as { amount?: number }).amount ?? 0;
    const delta =
      event.type === 'MoneyDeposited' ? amount : event.type === 'MoneyWithdrawn' ? -amount : 0;
    await docs.put('demo-balances', event.streamId, {
      account: event.streamId,
      balance: current.balance + delta,
      movements: current.movements + (delta === 0 ? 0 : 1),
    });
  },
};

/**
 * The foundation's runnable demo: commands on a decider, an async projection into a read
 * model, and a durable subscription — all on the embedded store, surviving restarts.
 */
export async function runDemo({ path, log }: { path: string; log: Logger }): Promise<void> {
  const store = createSqliteEventStore({ path });
  const target = createSqliteProjectionTarget(store.database);
  const handle = createCommandHandler({ store, decider: account });
  log.info({ store: path, events: await store.headPosition() }, 'eventloom demo started');

  if (
    (await target.loadCheckpoint(balances.name)) === undefined &&
    (await store.headPosition()) > 0
  ) {
    await rebuildProjection({
      store,
      projection: balances,
      target,
      onProgress: (p) => log.info({ ...p }, 'rebuilding projection'),
    });
  }
  const projection = startProjection({ store, projection: balances, target });
  const audit = store.subscribe({
    name: 'demo-audit-log',
    handler: (e) =>
      log.info(
        {
          position: e.position,
          stream: e.streamId,
          version: e.version,
          type: e.type,
        },
        'event',
      ),
  });

  const streamId = 'account-demo';
  await handle(streamId, { type: 'Open', owner: 'ada' }, { idempotencyKey: 'open-demo-account' });
  const deposit = await handle(streamId, {
    type: 'Deposit',
    amount: 10 + Math.floor(Math.random() * 90),
  });
  try {
    await handle(streamId, { type: 'Withdraw', amount: deposit.state.balance + 1 });
  } catch (e) {
    if (!isCommandRejectedError(e)) throw e;
    log.info({ reason: e.message }, 'command rejected, nothing appended');
  }
  await handle(streamId, { type: 'Withdraw', amount: 5 });

  const head = await store.headPosition();
  await Promise.all([projection.waitFor(head), audit.waitFor(head)]);
  const readModel = await target.documents.get(balances.name, streamId);
  const stream = await store.streamInfo(streamId);
  log.info(
    {
      stream: streamId,
      version: stream.version,
      readModel,
      totalEvents: head,
    },
    'demo finished',
  );
  process.stdout.write(
    `Account ${streamId} is at version ${stream.version} with balance ${String(
      (readModel as { balance?: number } | undefined)?.balance,
    )}; ${head} events in ${path}. Run again: the data survives restarts.\n`,
  );
  await Promise.all([projection.stop(), audit.stop()]);
  await store.close();
}
