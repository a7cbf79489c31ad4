import type { StoredEvent } from '../api/types.ts';
import { streamCategory } from '../../../src/core/streamCategory.ts';

/**
 * What a batch of the shop feed's events makes stale, and the global position the read model
 * must include when it is read again (`min_position`), so the refresh shows the change.
 */
export function staleShopData(events: readonly StoredEvent[]): {
  products?: number;
  orders?: number;
} {
  const stale: { products?: number; orders?: number } = {};
  for (const event of events) {
    const category = streamCategory(event.streamId);
    // Stock moves on the product streams; an order's steps on its own stream.
    const key = category === 'product' ? 'products' : category === 'order' ? 'orders' : undefined;
    if (key !== undefined) stale[key] = Math.max(stale[key] ?? 0, event.position);
  }
  return stale;
}
