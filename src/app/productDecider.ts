import { type Decider, ERASED } from '../core/index.js';
import type { Actor } from './actor.js';
import { rejected } from './rejection.js';

export interface ProductAddedBy {
  userId: string;
  username: string;
  role: Actor['role'];
}

/**
 * Who added a product, as recorded. `addedBy` is personal data as a whole (see
 * `APP_PERSONAL_DATA`), so once its subject is forgotten the event holds `'[erased]'` instead
 * of the object: the adder then reads as erased, with `userId` if known from elsewhere (the
 * event's metadata) and the unprivileged role, since no role of an erased person is known.
 */
export function productAdder(addedBy: unknown, userId: unknown = undefined): ProductAddedBy {
  if (typeof addedBy === 'object' && addedBy !== null) return addedBy as ProductAddedBy;
  return { userId: typeof userId === 'string' ? userId : ERASED, username: ERASED, role: 'user' };
}

export type ProductEvent = {
  type: 'ProductAdded';
  data: {
    productId: string;
    name: string;
    description: string;
    /** Price in minor units (cents): money is never a float. */
    priceCents: number;
    addedBy: ProductAddedBy;
  };
};

export type ProductCommand = {
  type: 'AddProduct';
  productId: string;
  name: string;
  description: string;
  priceCents: number;
  addedBy: ProductAddedBy;
};

export interface ProductState {
  exists: boolean;
  productId: string;
  name: string;
  description: string;
  priceCents: number;
  addedBy: ProductAddedBy | null;
}

/** Products are added by users or admins; who added it (and as what) is part of the event. */
export const productDecider: Decider<ProductState, ProductCommand, ProductEvent> = {
  initialState: () => ({
    exists: false,
    productId: '',
    name: '',
    description: '',
    priceCents: 0,
    addedBy: null,
  }),
  decide(command, state) {
    if (state.exists) {
      throw rejected('already_exists', `Product ${command.productId} already exists`);
    }
    const { productId, name, description, priceCents, addedBy } = command;
    return { type: 'ProductAdded', data: { productId, name, description, priceCents, addedBy } };
  },
  evolve: (state, event) => ({ ...state, exists: true, ...event.data }),
};
