import { CommandRejectedError, type Decider } from 'eventloom';

export type OrderEvent =
  | { type: 'OrderPlaced'; data: { orderId: string; total: number } }
  | { type: 'OrderPaid'; data: { orderId: string } }
  | { type: 'OrderCancelled'; data: { orderId: string; reason: string } };

export type OrderCommand =
  | { type: 'PlaceOrder'; data: { orderId: string; total: number } }
  | { type: 'PayOrder'; data: { orderId: string } }
  | { type: 'CancelOrder'; data: { orderId: string; reason: string } };

export interface Order {
  status: 'none' | 'placed' | 'paid' | 'cancelled';
}

/** The order decides which came first, the payment or the cancellation. */
export const order: Decider<Order, OrderCommand, OrderEvent> = {
  initialState: () => ({ status: 'none' }),
  decide(command, state) {
    switch (command.type) {
      case 'PlaceOrder':
        if (state.status !== 'none') throw new CommandRejectedError('The order exists already');
        return { type: 'OrderPlaced', data: command.data };
      case 'PayOrder':
        if (state.status !== 'placed') {
          throw new CommandRejectedError(`An order that is ${state.status} cannot be paid`);
        }
        return { type: 'OrderPaid', data: command.data };
      case 'CancelOrder':
        // Paid first: the timeout lost the race, so cancelling does nothing.
        return state.status === 'placed' ? { type: 'OrderCancelled', data: command.data } : [];
    }
  },
  evolve(state, event) {
    switch (event.type) {
      case 'OrderPlaced':
        return { status: 'placed' };
      case 'OrderPaid':
        return { status: 'paid' };
      case 'OrderCancelled':
        return { status: 'cancelled' };
    }
  },
};

export const orderStream = (orderId: string): string => `order-${orderId}`;
