import type { Projection } from 'eventloom';

/**
 * A read model of every account's balance, one document per account in the collection
 * `balances`. It runs as an async projection: its writes and its checkpoint commit together.
 */
export const balances: Projection = {
  name: 'balances',
  collections: ['balances'],
  eventTypes: ['AccountOpened', 'MoneyDeposited', 'MoneyWithdrawn', 'AccountClosed'],
  async handle(event, docs) {
    const current = await docs.get<{ owner: string; balance: number; open: boolean }>(
      'balances',
      event.streamId,
    );
    const data = event.data as { owner?: string; amount?: number };
    switch (event.type) {
      case 'AccountOpened':
        await docs.put('balances', event.streamId, { owner: data.owner, balance: 0, open: true });
        break;
      case 'MoneyDeposited':
      case 'MoneyWithdrawn': {
        if (current === undefined) return;
        const sign = event.type === 'MoneyDeposited' ? 1 : -1;
        await docs.put('balances', event.streamId, {
          ...current,
          balance: current.balance + sign * (data.amount ?? 0),
        });
        break;
      }
      case 'AccountClosed':
        if (current !== undefined)
          await docs.put('balances', event.streamId, { ...current, open: false });
        break;
    }
  },
};
