import { describe, expect, it } from 'vitest';
import type { Decider } from '../../src/core/decider.js';
import { CommandRejectedError, ValidationError } from '../../src/core/errors.js';
import {
  createMemoryEventStore,
  createMemorySnapshotStore,
  DeciderSpecification,
} from '../../src/core/testing/index.js';

type AccountEvent =
  | { type: 'AccountOpened'; data: { owner: string; overdraftLimit: number } }
  | { type: 'MoneyDeposited'; data: { amount: number } }
  | { type: 'MoneyWithdrawn'; data: { amount: number } };

type AccountCommand =
  | { type: 'Open'; owner: string; overdraftLimit: number }
  | { type: 'Deposit'; amount: number }
  | { type: 'Withdraw'; amount: number };

interface Account {
  open: boolean;
  balance: number;
  overdraftLimit: number;
}

const bankAccount: Decider<Account, AccountCommand, AccountEvent> = {
  initialState: () => ({ open: false, balance: 0, overdraftLimit: 0 }),
  decide(command, state) {
    switch (command.type) {
      case 'Open':
        if (state.open) throw new CommandRejectedError('The account is already open');
        return {
          type: 'AccountOpened',
          data: { owner: command.owner, overdraftLimit: command.overdraftLimit },
        };
      case 'Deposit':
        if (command.amount < 0) throw new ValidationError('amount', 'must not be negative');
        return command.amount === 0
          ? []
          : { type: 'MoneyDeposited', data: { amount: command.amount } };
      case 'Withdraw':
        if (state.balance - command.amount < -state.overdraftLimit) {
          throw new CommandRejectedError('Insufficient funds');
        }
        return { type: 'MoneyWithdrawn', data: { amount: command.amount } };
    }
  },
  evolve(state, event) {
    switch (event.type) {
      case 'AccountOpened':
        return { open: true, balance: 0, overdraftLimit: event.data.overdraftLimit };
      case 'MoneyDeposited':
        return { ...state, balance: state.balance + event.data.amount };
      case 'MoneyWithdrawn':
        return { ...state, balance: state.balance - event.data.amount };
    }
  },
};

const spec = DeciderSpecification.for(bankAccount);
const opened: AccountEvent = { type: 'AccountOpened', data: { owner: 'ada', overdraftLimit: 20 } };

/** The message of the assertion a specification throws (sync or async), or fails the test. */
async function failureOf(run: () => void | Promise<void>): Promise<Error> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('AssertionError');
    return error as Error;
  }
  throw new Error('expected the specification to fail');
}

describe('DeciderSpecification', () => {
  it('passes when decide returns exactly the expected events', async () => {
    await spec
      .given([opened, { type: 'MoneyDeposited', data: { amount: 50 } }])
      .when({ type: 'Withdraw', amount: 60 })
      .then([{ type: 'MoneyWithdrawn', data: { amount: 60 } }]);
  });

  it('accepts a single expected event and a command on an empty stream', async () => {
    await spec
      .when({ type: 'Open', owner: 'ada', overdraftLimit: 20 })
      .then({ type: 'AccountOpened', data: { owner: 'ada', overdraftLimit: 20 } });
  });

  it('fails with the path and both values of the first difference', async () => {
    const error = await failureOf(() =>
      spec
        .given(opened)
        .when({ type: 'Deposit', amount: 50 })
        .then([{ type: 'MoneyDeposited', data: { amount: 5 } }]),
    );
    expect(error.message).toContain('at events[0].data.amount: expected 5, received 50');
    expect(error.message).toMatch(
      /Expected:\n[\s\S]*"amount": 5[\s\S]*Received:\n[\s\S]*"amount": 50/,
    );
    expect(error).toMatchObject({
      expected: [{ type: 'MoneyDeposited', data: { amount: 5 } }],
      actual: [{ type: 'MoneyDeposited', data: { amount: 50 } }],
    });
  });

  it('fails when decide returns more or fewer events than expected', async () => {
    const error = await failureOf(() =>
      spec.given(opened).when({ type: 'Deposit', amount: 1 }).then([]),
    );
    expect(error.message).toContain('Expected decide to return 0 events, but it returned 1 event');
    expect(error.message).toContain('unexpected: [{"type":"MoneyDeposited","data":{"amount":1}}]');
  });

  it('fails with the thrown error when events were expected', async () => {
    const error = await failureOf(() =>
      spec
        .given(opened)
        .when({ type: 'Withdraw', amount: 21 })
        .then({
          type: 'MoneyWithdrawn',
          data: { amount: 21 },
        }),
    );
    expect(error.message).toContain('but it threw CommandRejectedError: Insufficient funds');
    expect(error.cause).toBeInstanceOf(CommandRejectedError);
  });

  it('asserts that nothing happened', async () => {
    await spec.given(opened).when({ type: 'Deposit', amount: 0 }).thenNothingHappened();
    const error = await failureOf(() =>
      spec.given(opened).when({ type: 'Deposit', amount: 3 }).thenNothingHappened(),
    );
    expect(error.message).toContain('returned 1 event');
  });

  describe('thenThrows', () => {
    const overdraw = () => spec.given(opened).when({ type: 'Withdraw', amount: 100 });

    it('passes for any error, an error code, an error class or a predicate', async () => {
      await overdraw().thenThrows();
      await overdraw().thenThrows('COMMAND_REJECTED');
      await overdraw().thenThrows(CommandRejectedError);
      await overdraw().thenThrows(Error);
      await overdraw().thenThrows((e) => e instanceof Error && e.message === 'Insufficient funds');
    });

    it('fails when decide did not throw, listing what it returned', async () => {
      const error = await failureOf(() =>
        spec.given(opened).when({ type: 'Withdraw', amount: 1 }).thenThrows('COMMAND_REJECTED'),
      );
      expect(error.message).toContain(
        "Expected decide to throw an error with code 'COMMAND_REJECTED', but it returned 1 event",
      );
      expect(error.message).toContain('"MoneyWithdrawn"');
    });

    it('fails when the error has another code, class or does not match the predicate', async () => {
      const byCode = await failureOf(() => overdraw().thenThrows('VALIDATION'));
      expect(byCode.message).toContain("with code 'VALIDATION', but it threw CommandRejectedError");
      expect(byCode.message).toContain("with code 'COMMAND_REJECTED'");
      const byClass = await failureOf(() => overdraw().thenThrows(ValidationError));
      expect(byClass.message).toContain('Expected decide to throw a ValidationError');
      const byPredicate = await failureOf(() => overdraw().thenThrows(() => false));
      expect(byPredicate.message).toContain('does not match');
    });
  });

  describe('thenState', () => {
    it('checks the state after the given and the decided events', async () => {
      await spec
        .given(opened)
        .when({ type: 'Withdraw', amount: 15 })
        .thenState({ open: true, balance: -15, overdraftLimit: 20 });
    });

    it('fails with the path of the differing field', async () => {
      const error = await failureOf(() =>
        spec
          .given(opened)
          .when({ type: 'Withdraw', amount: 15 })
          .thenState({ open: true, balance: 15, overdraftLimit: 20 }),
      );
      expect(error.message).toContain('at state.balance: expected 15, received -15');
    });
  });

  describe('with an asynchronous decide', () => {
    const asyncSpec = DeciderSpecification.for({
      ...bankAccount,
      decide: async (command: AccountCommand, state: Account) => {
        // The subject: a decide that really yields to the event loop before it answers.
        await new Promise((resolve) => setTimeout(resolve, 1));
        return bankAccount.decide(command, state);
      },
    });

    it('returns a promise that resolves when the expectation holds', async () => {
      const result = asyncSpec
        .given(opened)
        .when({ type: 'Deposit', amount: 1 })
        .then([{ type: 'MoneyDeposited', data: { amount: 1 } }]);
      expect(result).toBeInstanceOf(Promise);
      await result;
      await asyncSpec
        .given(opened)
        .when({ type: 'Withdraw', amount: 99 })
        .thenThrows('COMMAND_REJECTED');
    });

    it('returns a promise that rejects when the expectation fails', async () => {
      const error = await failureOf(() =>
        asyncSpec.given(opened).when({ type: 'Deposit', amount: 1 }).thenThrows(),
      );
      expect(error.message).toContain('Expected decide to throw, but it returned 1 event');
    });
  });

  it('explains the mistake when the when(...) result itself is awaited', async () => {
    const when = spec.given(opened).when({ type: 'Deposit', amount: 1 });
    await expect(
      (async () => {
        // A `then` method makes the object a thenable: awaiting it calls then(resolve, reject).
        await (when as unknown as Promise<unknown>);
      })(),
    ).rejects.toThrow(/was awaited or used as a promise/);
  });

  it('is shipped with the in-memory stores for tests', async () => {
    const store = createMemoryEventStore();
    await store.appendToStream('account-1', [opened]);
    expect(await store.headPosition()).toBe(1);
    expect(await createMemorySnapshotStore().load('account-1')).toBeUndefined();
  });
});
