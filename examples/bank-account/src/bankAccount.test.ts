import { describe, it } from 'node:test';
import { DeciderSpecification } from 'eventloom/testing';
import { bankAccount } from './bankAccount.js';

const spec = DeciderSpecification.for(bankAccount);
const opened = { type: 'AccountOpened' as const, data: { owner: 'ada', overdraftLimit: 50 } };

describe('bank account', () => {
  it('opens a new account', () =>
    spec
      .when({ type: 'Open', owner: 'ada', overdraftLimit: 50 })
      .then([{ type: 'AccountOpened', data: { owner: 'ada', overdraftLimit: 50 } }]));

  it('lets the balance go negative down to the overdraft limit', () =>
    spec
      .given([opened, { type: 'MoneyDeposited', data: { amount: 10 } }])
      .when({ type: 'Withdraw', amount: 60 })
      .thenState({ status: 'open', balance: -50, overdraftLimit: 50 }));

  it('refuses a withdrawal beyond the overdraft limit', () =>
    spec.given([opened]).when({ type: 'Withdraw', amount: 51 }).thenThrows('COMMAND_REJECTED'));

  it('refuses deposits to an account that was never opened', () =>
    spec.when({ type: 'Deposit', amount: 5 }).thenThrows('COMMAND_REJECTED'));

  it('closes only an empty account', () =>
    spec
      .given([opened, { type: 'MoneyDeposited', data: { amount: 1 } }])
      .when({ type: 'Close', reason: 'moving' })
      .thenThrows((error) => error instanceof Error && /balance 1/.test(error.message)));
});
