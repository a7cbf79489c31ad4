// No imports: the web client bundles this file as it is.

/** How an order can be paid. */
export const PAYMENT_METHODS = ['card', 'bank_transfer', 'wallet'] as const;
export type PaymentMethod = (typeof PAYMENT_METHODS)[number];
