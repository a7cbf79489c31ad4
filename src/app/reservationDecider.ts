import type { Decider } from '../core/index.js';
import { rejected } from './rejection.js';

/** A product and how many units of it an order wants. */
export interface StockLine {
  productId: string;
  quantity: number;
}

/** Why a reservation was refused as a whole. */
export type ReservationRefusal = {
  reason: 'out_of_stock' | 'unknown_product';
  productId: string;
  requested: number;
};

export type ReservationEvent =
  | { type: 'ReservationRequested'; data: { orderId: string; lines: StockLine[] } }
  | { type: 'ReservationConfirmed'; data: { orderId: string } }
  | { type: 'ReservationRejected'; data: { orderId: string } & ReservationRefusal }
  | { type: 'ReservationReleased'; data: { orderId: string } };

export type ReservationCommand =
  | { type: 'RequestReservation'; orderId: string; lines: StockLine[] }
  | { type: 'ConfirmReservation' }
  | { type: 'RejectReservation'; refusal: ReservationRefusal }
  | { type: 'ReleaseReservation'; orderId: string };

export interface ReservationState {
  status: 'none' | 'requested' | 'reserved' | 'rejected' | 'released';
  orderId: string;
  /** Sorted by product id, one line per product. */
  lines: StockLine[];
  refusal: ReservationRefusal | null;
}

const sameLines = (a: StockLine[], b: StockLine[]) =>
  a.length === b.length &&
  a.every((l, i) => l.productId === b[i]?.productId && l.quantity === b[i]?.quantity);

/**
 * One order's stock reservation, in its own stream (`reservation-<orderId>`): the record of
 * what was asked and how it ended. Its outcome is decided once — confirmed, rejected or
 * released — and every later command only reads it, so retries answer the same.
 */
export const reservationDecider: Decider<ReservationState, ReservationCommand, ReservationEvent> = {
  initialState: () => ({ status: 'none', orderId: '', lines: [], refusal: null }),
  decide(command, state) {
    switch (command.type) {
      case 'RequestReservation':
        if (state.status === 'none') {
          const { orderId, lines } = command;
          return { type: 'ReservationRequested', data: { orderId, lines } };
        }
        if (state.lines.length > 0 && !sameLines(state.lines, command.lines)) {
          throw rejected(
            'reservation_mismatch',
            `Order ${command.orderId} already asked to reserve other lines; a retry must ask for the same`,
          );
        }
        return [];
      case 'ConfirmReservation':
        return state.status === 'requested'
          ? { type: 'ReservationConfirmed', data: { orderId: state.orderId } }
          : [];
      case 'RejectReservation':
        return state.status === 'requested'
          ? { type: 'ReservationRejected', data: { orderId: state.orderId, ...command.refusal } }
          : [];
      case 'ReleaseReservation':
        return state.status === 'rejected' || state.status === 'released'
          ? []
          : { type: 'ReservationReleased', data: { orderId: command.orderId } };
    }
  },
  evolve(state, event) {
    switch (event.type) {
      case 'ReservationRequested':
        return { ...state, status: 'requested', ...event.data };
      case 'ReservationConfirmed':
        return { ...state, status: 'reserved' };
      case 'ReservationRejected': {
        const { reason, productId, requested } = event.data;
        return { ...state, status: 'rejected', refusal: { reason, productId, requested } };
      }
      case 'ReservationReleased':
        return { ...state, status: 'released', orderId: event.data.orderId };
    }
  },
};
