import type { Decider } from '../core/index.js';
import { rejected, type RejectionReason } from './rejection.js';

/**
 * One stream per unique value (`username-ada`, `email-<digest>`): appending its claim with
 * the loaded version as the expected version makes uniqueness race-free, because the store
 * lets exactly one of two concurrent claims through.
 */
export type UniqueValueEvent =
  | { type: 'UniqueValueClaimed'; data: { ownerId: string; replaced?: string } }
  | { type: 'UniqueValueReleased'; data: { ownerId: string } };

export type UniqueValueCommand =
  | {
      type: 'Claim';
      ownerId: string;
      /** Take the value over from this owner (a claim its owner never completed). */
      replacing?: string;
      takenReason: RejectionReason;
      field: string;
    }
  | { type: 'Release'; ownerId: string };

export interface UniqueValueState {
  ownerId: string | null;
}

export const uniqueValueDecider: Decider<UniqueValueState, UniqueValueCommand, UniqueValueEvent> = {
  initialState: () => ({ ownerId: null }),
  decide(command, state) {
    if (command.type === 'Release') {
      return state.ownerId === command.ownerId
        ? { type: 'UniqueValueReleased', data: { ownerId: command.ownerId } }
        : [];
    }
    if (state.ownerId === command.ownerId) return [];
    if (state.ownerId === null) {
      return { type: 'UniqueValueClaimed', data: { ownerId: command.ownerId } };
    }
    if (command.replacing !== undefined && command.replacing === state.ownerId) {
      return {
        type: 'UniqueValueClaimed',
        data: { ownerId: command.ownerId, replaced: command.replacing },
      };
    }
    throw rejected(command.takenReason, `This ${command.field} is already taken`, command.field);
  },
  evolve(state, event) {
    switch (event.type) {
      case 'UniqueValueClaimed':
        return { ownerId: event.data.ownerId };
      case 'UniqueValueReleased':
        return state.ownerId === event.data.ownerId ? { ownerId: null } : state;
    }
  },
};
