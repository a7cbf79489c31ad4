import type { Actor } from './actor.js';
import type { ReferenceApp } from './createReferenceApp.js';

/** The actor sample data is added as: visible in the events' `addedBy`. */
export const CATALOG_ACTOR: Actor = { userId: 'eventloom', username: 'eventloom', role: 'admin' };

const SAMPLES = [
  {
    key: 'sample-notebook',
    name: 'Event notebook',
    description: 'Dotted, 120 pages, append-only.',
    priceCents: 1200,
  },
  {
    key: 'sample-mug',
    name: 'Idempotent mug',
    description: 'Refill it as often as you like: still one mug.',
    priceCents: 1500,
  },
  {
    key: 'sample-stickers',
    name: 'Sticker pack',
    description: 'Five stickers, one per stream category.',
    priceCents: 400,
  },
] as const;

/**
 * Adds a few products so a fresh shop is not empty. Idempotent: each product's id derives
 * from a fixed key, so running it on every start adds each product once.
 */
export async function seedSampleCatalog(app: ReferenceApp): Promise<number> {
  let position = 0;
  for (const { key, ...product } of SAMPLES) {
    const result = await app.shop.addProduct(CATALOG_ACTOR, product, {
      idempotencyKey: key,
      metadata: { source: 'sample-catalog' },
    });
    position = Math.max(position, result.position);
  }
  return position;
}
