import { describe, expect, expectTypeOf, it } from 'vitest';
import type {
  Decider,
  DeciderCommand,
  DeciderEvent,
  DeciderState,
} from '../../src/core/decider.js';
import { CommandRejectedError, isCommandRejectedError } from '../../src/core/errors.js';
import { createMemoryEventStore } from '../../src/core/memoryEventStore.js';
import type { Recorded } from '../../src/core/types.js';

type AccountEvent =
  | { type: 'AccountOpened'; data: { owner: string; overdraftLimit: number } }
  | { type: 'MoneyDeposited'; data: { amount: number } }
  | { type: 'MoneyWithdrawn'; data: { amount: number } }
  | { type: 'AccountClosed'; data: { reason: string } };

type AccountCommand =
  | { type: 'Open'; owner: string; overdraftLimit?: number }
  | { type: 'Deposit'; amount: number }
  | { type: 'Withdraw'; amount: number }
  | { type: 'Close'; reason: string };

interface Account {
  status: 'none' | 'open' | 'closed';
  balance: number;
  overdraftLimit: number;
}

const bankAccount: Decider<Account, AccountCommand, AccountEvent> = {
  initialState: () => ({ status: 'none', balance: 0, overdraftLimit: 0 }),
  decide(command, state) {
    if (command.type === 'Open') {
      if (state.status !== 'none') throw new CommandRejectedError('The account is already open');
      return {
        type: 'AccountOpened',
        data: { owner: command.owner, overdraftLimit: command.overdraftLimit ?? 0 },
      };
    }
    if (state.status !== 'open') throw new CommandRejectedError('The account is not open');
    switch (command.type) {
      case 'Deposit':
        return command.amount === 0
          ? []
          : { type: 'MoneyDeposited', data: { amount: command.amount } };
      case 'Withdraw':
        if (state.balance - command.amount < -state.overdraftLimit) {
          throw new CommandRejectedError(
            `Withdrawing ${command.amount} would exceed the overdraft`,
          );
        }
        return { type: 'MoneyWithdrawn', data: { amount: command.amount } };
      case 'Close':
        // Closing pays out the balance first: two events from one command.
        return state.balance > 0
          ? [
              { type: 'MoneyWithdrawn', data: { amount: state.balance } },
              { type: 'AccountClosed', data: { reason: command.reason } },
            ]
          : [{ type: 'AccountClosed', data: { reason: command.reason } }];
    }
  },
  evolve(state, event) {
    switch (event.type) {
      case 'AccountOpened':
        return { status: 'open', balance: 0, overdraftLimit: event.data.overdraftLimit };
      case 'MoneyDeposited':
        return { ...state, balance: state.balance + event.data.amount };
      case 'MoneyWithdrawn':
        return { ...state, balance: state.balance - event.data.amount };
      case 'AccountClosed':
        return { ...state, status: 'closed' };
    }
  },
};

const fold = (events: readonly AccountEvent[]): Account =>
  events.reduce(bankAccount.evolve, bankAccount.initialState());

describe('Decider', () => {
  it('folds a history of plain { type, data } events into the current state', () => {
    const state = fold([
      { type: 'AccountOpened', data: { owner: 'ada', overdraftLimit: 50 } },
      { type: 'MoneyDeposited', data: { amount: 100 } },
      { type: 'MoneyWithdrawn', data: { amount: 30 } },
    ]);
    expect(state).toEqual({ status: 'open', balance: 70, overdraftLimit: 50 });
  });

  it('evolves recorded events read from a store with an evolve written against { type, data }', async () => {
    const store = createMemoryEventStore();
    await store.appendToStream('account-1', [
      { type: 'AccountOpened', data: { owner: 'ada', overdraftLimit: 0 } },
      { type: 'MoneyDeposited', data: { amount: 25 } },
    ]);
    const recorded = (await store.readStream('account-1')) as Recorded<AccountEvent>[];
    // Recorded<E> is assignable to E: no mapping step between the store and evolve.
    const state = recorded.reduce(bankAccount.evolve, bankAccount.initialState());
    expect(state.balance).toBe(25);
    expect(recorded[1]?.version).toBe(2);
  });

  it('may decide one event, several events or none', () => {
    const open = fold([{ type: 'AccountOpened', data: { owner: 'ada', overdraftLimit: 0 } }]);
    expect(bankAccount.decide({ type: 'Deposit', amount: 10 }, open)).toEqual({
      type: 'MoneyDeposited',
      data: { amount: 10 },
    });
    expect(bankAccount.decide({ type: 'Deposit', amount: 0 }, open)).toEqual([]);
    const funded = bankAccount.evolve(open, { type: 'MoneyDeposited', data: { amount: 5 } });
    expect(bankAccount.decide({ type: 'Close', reason: 'moving' }, funded)).toHaveLength(2);
  });

  it('refuses a command that breaks a business rule by throwing', () => {
    const open = fold([{ type: 'AccountOpened', data: { owner: 'ada', overdraftLimit: 10 } }]);
    let thrown: unknown;
    try {
      void bankAccount.decide({ type: 'Withdraw', amount: 11 }, open);
    } catch (error) {
      thrown = error;
    }
    expect(isCommandRejectedError(thrown)).toBe(true);
  });

  it('allows an asynchronous decide', async () => {
    const asyncAccount: Decider<Account, AccountCommand, AccountEvent> = {
      ...bankAccount,
      decide: async (command, state) => bankAccount.decide(command, state),
    };
    const result = await asyncAccount.decide(
      { type: 'Open', owner: 'ada' },
      asyncAccount.initialState(),
    );
    expect(result).toEqual({ type: 'AccountOpened', data: { owner: 'ada', overdraftLimit: 0 } });
  });

  it('exposes the state, command and event types of a decider', () => {
    type D = typeof bankAccount;
    expectTypeOf<DeciderState<D>>().toEqualTypeOf<Account>();
    expectTypeOf<DeciderCommand<D>>().toEqualTypeOf<AccountCommand>();
    expectTypeOf<DeciderEvent<D>>().toEqualTypeOf<AccountEvent>();
  });
});
