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

/** The most a product's stock may be (the API's limit, so sums stay exact integers). */
export const MAX_STOCK = 1_000_000_000;

/** What a product is added with: the `ProductAdded` event's data and the command's fields. */
export interface ProductFields {
  productId: string;
  name: string;
  description: string;
  /** Price in minor units (cents): money is never a float. */
  priceCents: number;
  addedBy: ProductAddedBy;
  /** Units on hand; null (or absent, in events older than stock) means unlimited. */
  stock?: number | null;
}

/** A change to one order's hold on a product; `remaining` is the stock left after it. */
export interface StockChange {
  productId: string;
  orderId: string;
  quantity: number;
  /** Null: unlimited. Carried so read models need not replay the product. */
  remaining: number | null;
}

export type ProductEvent =
  | { type: 'ProductAdded'; data: ProductFields }
  | { type: 'StockReserved'; data: StockChange }
  /**
   * An order's hold here ends; `quantity` 0 closes an order that never reserved here, so a
   * late reservation attempt for it is refused (see `inventory.ts`).
   */
  | { type: 'StockReleased'; data: StockChange };

export type ProductCommand =
  | ({ type: 'AddProduct' } & ProductFields)
  | { type: 'ReserveStock'; orderId: string; quantity: number }
  | { type: 'ReleaseStock'; orderId: string };

/** One order's reservation of a product: held until released (then never held again). */
export interface StockReservation {
  quantity: number;
  released: boolean;
}

export interface ProductState {
  exists: boolean;
  productId: string;
  name: string;
  description: string;
  priceCents: number;
  addedBy: ProductAddedBy | null;
  /** Units left to reserve; null means unlimited. */
  stock: number | null;
  reservations: Record<string, StockReservation>;
}

const afterReserving = (stock: number | null, quantity: number) =>
  stock === null ? null : stock - quantity;

/**
 * Products are added by users or admins; who added it (and as what) is part of the event.
 * Limited stock is reserved per order, at most once per order (a repeated reservation is a
 * no-op), and never beyond what is left; a released reservation is closed for good.
 * Unlimited stock (null) is never held: reserving or releasing it records nothing.
 */
export const productDecider: Decider<ProductState, ProductCommand, ProductEvent> = {
  initialState: () => ({
    exists: false,
    productId: '',
    name: '',
    description: '',
    priceCents: 0,
    addedBy: null,
    stock: null,
    reservations: {},
  }),
  decide(command, state) {
    if (command.type === 'AddProduct') {
      if (state.exists) {
        throw rejected('already_exists', `Product ${command.productId} already exists`);
      }
      const { productId, name, description, priceCents, addedBy, stock } = command;
      // Unlimited products keep the event's shape from before stock existed.
      return {
        type: 'ProductAdded',
        data: {
          productId,
          name,
          description,
          priceCents,
          addedBy,
          ...(typeof stock === 'number' ? { stock } : {}),
        },
      };
    }
    const { productId } = state;
    if (command.type === 'ReleaseStock') {
      // Releasing at a product that does not exist has nothing to close: no stream is created.
      if (!state.exists || state.stock === null) return [];
      const held = state.reservations[command.orderId];
      if (held?.released === true) return [];
      const quantity = held?.quantity ?? 0;
      const remaining = state.stock === null ? null : state.stock + quantity;
      return {
        type: 'StockReleased',
        data: { productId, orderId: command.orderId, quantity, remaining },
      };
    }
    if (!state.exists) throw rejected('unknown_product', `There is no product ${productId}`);
    // Unlimited stock has nothing to hold: recording it would only grow the product's stream
    // (which every order reads) by one event per order.
    if (state.stock === null) return [];
    const held = state.reservations[command.orderId];
    if (held !== undefined) {
      if (!held.released) return [];
      throw rejected(
        'reservation_closed',
        `Order ${command.orderId}'s reservation of product ${productId} was released; it cannot reserve again`,
      );
    }
    if (state.stock !== null && state.stock < command.quantity) {
      throw rejected(
        'out_of_stock',
        `Product ${productId} has ${state.stock} left; ${command.quantity} cannot be reserved`,
      );
    }
    return {
      type: 'StockReserved',
      data: {
        productId,
        orderId: command.orderId,
        quantity: command.quantity,
        remaining: afterReserving(state.stock, command.quantity),
      },
    };
  },
  evolve(state, event) {
    switch (event.type) {
      case 'ProductAdded':
        return { ...state, exists: true, ...event.data, stock: event.data.stock ?? null };
      case 'StockReserved': {
        const { orderId, quantity } = event.data;
        return {
          ...state,
          stock: afterReserving(state.stock, quantity),
          reservations: { ...state.reservations, [orderId]: { quantity, released: false } },
        };
      }
      case 'StockReleased': {
        const { orderId, quantity } = event.data;
        return {
          ...state,
          stock: state.stock === null ? null : state.stock + quantity,
          reservations: { ...state.reservations, [orderId]: { quantity: 0, released: true } },
        };
      }
    }
  },
};
