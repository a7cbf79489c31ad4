import { CommandRejectedError, type Decider } from 'eventloom';

/** What happened to an account: the only thing the store keeps. */
export type AccountEvent =
  | { type: 'AccountOpened'; data: { owner: string; overdraftLimit: number } }
  | { type: 'MoneyDeposited'; data: { amount: number } }
  | { type: 'MoneyWithdrawn'; data: { amount: number } }
  | { type: 'AccountClosed'; data: { reason: string } };

/** What someone asks the account to do. */
export type AccountCommand =
  | { type: 'Open'; owner: string; overdraftLimit?: number }
  | { type: 'Deposit'; amount: number }
  | { type: 'Withdraw'; amount: number }
  | { type: 'Close'; reason: string };

/** What `decide` needs to know, folded from the events. */
export interface Account {
  status: 'new' | 'open' | 'closed';
  balance: number;
  overdraftLimit: number;
}

function positive(amount: number): number {
  if (!Number.isFinite(amount) || amount <= 0) {
    throw new CommandRejectedError(`The amount must be a positive number; got ${amount}`);
  }
  return amount;
}

export const bankAccount: Decider<Account, AccountCommand, AccountEvent> = {
  initialState: () => ({ status: 'new', balance: 0, overdraftLimit: 0 }),

  decide(command, account) {
    if (command.type === 'Open') {
      if (account.status !== 'new') throw new CommandRejectedError('The account is already open');
      return {
        type: 'AccountOpened',
        data: { owner: command.owner, overdraftLimit: command.overdraftLimit ?? 0 },
      };
    }
    if (account.status !== 'open') {
      throw new CommandRejectedError(`The account is ${account.status}, not open`);
    }
    switch (command.type) {
      case 'Deposit':
        return { type: 'MoneyDeposited', data: { amount: positive(command.amount) } };
      case 'Withdraw': {
        const amount = positive(command.amount);
        if (account.balance - amount < -account.overdraftLimit) {
          throw new CommandRejectedError(
            `Withdrawing ${amount} would exceed the overdraft limit (balance ${account.balance})`,
          );
        }
        return { type: 'MoneyWithdrawn', data: { amount } };
      }
      case 'Close':
        if (account.balance !== 0) {
          throw new CommandRejectedError(
            `Only an empty account can be closed (balance ${account.balance})`,
          );
        }
        return { type: 'AccountClosed', data: { reason: command.reason } };
    }
  },

  evolve(account, event) {
    switch (event.type) {
      case 'AccountOpened':
        return { status: 'open', balance: 0, overdraftLimit: event.data.overdraftLimit };
      case 'MoneyDeposited':
        return { ...account, balance: account.balance + event.data.amount };
      case 'MoneyWithdrawn':
        return { ...account, balance: account.balance - event.data.amount };
      case 'AccountClosed':
        return { ...account, status: 'closed' };
    }
  },
};
