import { defineWorkflow } from '../../core/index.js';
import type { OrderLine } from '../orderDecider.js';
import type { StockLine } from '../reservationDecider.js';
import { type AppServiceFactory, serviceWorkflow } from './appService.js';

/** What the inventory service reads: orders placed and cancelled. */
export type InventoryServiceInput =
  | { type: 'OrderPlaced'; data: { orderId: string; items: readonly OrderLine[] } }
  | { type: 'OrderCancelled'; data: { orderId: string; reason: string } };

/** Its own commands, on the stock (`Inventory`). */
export type InventoryServiceCommand =
  | { type: 'ReserveStock'; data: { orderId: string; lines: StockLine[] } }
  | { type: 'ReleaseStock'; data: { orderId: string } };

export interface InventoryServiceState {
  status: 'new' | 'reserving' | 'released';
}

/**
 * Holds stock for each placed order and gives it back when the order is cancelled. Its
 * outcome is the reservation's own events (`ReservationConfirmed`, `ReservationRejected`,
 * `ReservationReleased` on `reservation-<orderId>`), which the order workflow reads: the two
 * never call each other.
 */
export const inventoryWorkflow = defineWorkflow<
  InventoryServiceState,
  InventoryServiceInput,
  InventoryServiceCommand
>({
  name: 'inventory',
  inputs: ['OrderPlaced', 'OrderCancelled'],
  instanceOf: (input) => input.data.orderId,
  initialState: () => ({ status: 'new' }),
  // The order's customer (username) stays out of the instance stream: the state needs none of it.
  recordedData: (input) => ({ orderId: input.data.orderId }),
  evolve: (state, input) =>
    input.type === 'OrderPlaced' ? { status: 'reserving' } : { status: 'released' },
  decide(input, state) {
    const { orderId } = input.data;
    if (input.type === 'OrderPlaced') {
      if (state.status !== 'new') return [];
      const lines = input.data.items.map(({ productId, quantity }) => ({ productId, quantity }));
      return [{ kind: 'command', type: 'ReserveStock', data: { orderId, lines } }];
    }
    if (state.status === 'released') return [];
    return [{ kind: 'command', type: 'ReleaseStock', data: { orderId } }];
  },
});

/** The `inventory` service: `reserveStock`/`releaseStock` are idempotent per order. */
export const inventoryService: AppServiceFactory = ({ inventory }) => ({
  name: 'inventory',
  workflows: [
    serviceWorkflow(inventoryWorkflow, {
      ReserveStock: async ({ data, metadata }) => {
        await inventory.reserveStock(data.orderId, data.lines, { metadata });
      },
      ReleaseStock: async ({ data, metadata }) => {
        await inventory.releaseStock(data.orderId, { metadata });
      },
    }),
  ],
});
