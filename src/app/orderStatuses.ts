// Import-free, so the web client can take the names with the API's types.

/** Where an order stands; DESIGN.md fixes these names (they are the API's). */
export const ORDER_STATUSES = [
  'placed',
  'reserved',
  'rejected',
  'paid',
  'shipped',
  'cancelled',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];
