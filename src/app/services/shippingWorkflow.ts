import { defineWorkflow } from '../../core/index.js';
import { derivedId } from '../derivedId.js';
import type { AppServicesConfig } from './appService.js';

/** The simulated carrier's timer in each order's shipping instance. */
export const CARRIER_TIMER = 'carrier';

export type ShippingInput =
  | { type: 'ShipmentRequested'; data: { orderId: string } }
  | { type: 'CarrierDispatched'; data: { orderId: string } };

export type ShippingCommand = {
  type: 'MarkShipped';
  data: { orderId: string; shipmentId: string };
};

export interface ShippingState {
  status: 'new' | 'awaiting-carrier' | 'dispatched';
}

/** The shipment id of an order: the same on every run, so a re-dispatch ships nothing twice. */
export const shipmentIdOf = (orderId: string): string => derivedId('shipment', orderId);

/**
 * One instance per order: a shipment request waits for the carrier (a durable timer, so a
 * restart neither loses nor repeats it), then the order is marked shipped.
 */
export function shippingWorkflow(config: Pick<AppServicesConfig, 'shippingDelayMs'>) {
  return defineWorkflow<ShippingState, ShippingInput, ShippingCommand>({
    name: 'shipping',
    inputs: ['ShipmentRequested'],
    instanceOf: (input) => input.data.orderId,
    initialState: () => ({ status: 'new' }),
    recordedData: (input) => ({ orderId: input.data.orderId }),
    evolve: (_state, input) => ({
      status: input.type === 'ShipmentRequested' ? 'awaiting-carrier' : 'dispatched',
    }),
    decide(input, state) {
      const { orderId } = input.data;
      if (input.type === 'ShipmentRequested') {
        if (state.status !== 'new') return [];
        return [
          {
            kind: 'schedule',
            timerId: CARRIER_TIMER,
            afterMs: config.shippingDelayMs,
            message: { type: 'CarrierDispatched', data: { orderId } },
          },
        ];
      }
      if (state.status !== 'awaiting-carrier') return [];
      return [
        {
          kind: 'command',
          type: 'MarkShipped',
          data: { orderId, shipmentId: shipmentIdOf(orderId) },
        },
      ];
    },
  });
}
