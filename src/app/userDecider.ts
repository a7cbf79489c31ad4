import type { Decider } from '../core/index.js';
import { rejected } from './rejection.js';

/**
 * The user aggregate's events. None of them carries a secret: the password hash lives in
 * the credential store under `credentialId`, an opaque random id, so deleting a user deletes
 * the hash while the (immutable) events stay.
 */
export type UserEvent =
  | {
      type: 'UserRegistered';
      data: { userId: string; username: string; email: string; name: string; credentialId: string };
    }
  | { type: 'UserProfileUpdated'; data: { name?: string; email?: string } }
  | { type: 'PasswordChanged'; data: { credentialId: string } }
  | { type: 'UserDeleted'; data: { userId: string } };

export type UserCommand =
  | {
      type: 'RegisterUser';
      userId: string;
      username: string;
      email: string;
      name: string;
      credentialId: string;
    }
  | {
      /** Any of: new name, new email, new password (its credential id). One atomic append. */
      type: 'UpdateAccount';
      name?: string;
      email?: string;
      credentialId?: string;
    }
  | { type: 'DeleteUser' };

export interface UserState {
  status: 'new' | 'active' | 'deleted';
  userId: string;
  username: string;
  email: string;
  name: string;
  /** Where the current password hash is; never shown outside the app. */
  credentialId: string;
  passwordChanges: number;
}

const initialState = (): UserState => ({
  status: 'new',
  userId: '',
  username: '',
  email: '',
  name: '',
  credentialId: '',
  passwordChanges: 0,
});

/** Register, update (profile and/or password), delete: the rules of one user account. */
export const userDecider: Decider<UserState, UserCommand, UserEvent> = {
  initialState,
  decide(command, state) {
    if (command.type === 'RegisterUser') {
      if (state.status !== 'new') {
        throw rejected('already_exists', `User ${command.userId} already exists`);
      }
      const { userId, username, email, name, credentialId } = command;
      return { type: 'UserRegistered', data: { userId, username, email, name, credentialId } };
    }
    if (state.status !== 'active') {
      throw rejected('not_found', `User ${state.userId || '(unknown)'} does not exist`);
    }
    switch (command.type) {
      case 'UpdateAccount': {
        const events: UserEvent[] = [];
        const changes: { name?: string; email?: string } = {};
        if (command.name !== undefined && command.name !== state.name) changes.name = command.name;
        if (command.email !== undefined && command.email !== state.email) {
          changes.email = command.email;
        }
        if (Object.keys(changes).length > 0) {
          events.push({ type: 'UserProfileUpdated', data: changes });
        }
        if (command.credentialId !== undefined) {
          events.push({ type: 'PasswordChanged', data: { credentialId: command.credentialId } });
        }
        return events;
      }
      case 'DeleteUser':
        return { type: 'UserDeleted', data: { userId: state.userId } };
    }
  },
  evolve(state, event) {
    switch (event.type) {
      case 'UserRegistered':
        return { ...state, status: 'active', ...event.data };
      case 'UserProfileUpdated':
        return { ...state, ...event.data };
      case 'PasswordChanged':
        return {
          ...state,
          credentialId: event.data.credentialId,
          passwordChanges: state.passwordChanges + 1,
        };
      case 'UserDeleted':
        return { ...state, status: 'deleted' };
    }
  },
};

/** The state as the event explorer may show it: without the credential reference. */
export function publicUserState(state: UserState): Omit<UserState, 'credentialId'> {
  const { credentialId: _hidden, ...visible } = state;
  return visible;
}
