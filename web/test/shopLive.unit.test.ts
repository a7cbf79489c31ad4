import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../src/api/types.ts';
import { staleShopData } from '../src/lib/shopLive.ts';

const event = (position: number, streamId: string): StoredEvent => ({
  id: `e${position}`,
  streamId,
  type: 'Something',
  data: {},
  metadata: {},
  version: 1,
  position,
  recordedAt: '2026-01-01T00:00:00.000Z',
});

describe('the shop feed', () => {
  it('refreshes products after stock events and orders after order events, at the newest position', () => {
    expect(
      staleShopData([event(4, 'product-a'), event(7, 'order-b'), event(9, 'product-c')]),
    ).toEqual({ products: 9, orders: 7 });
  });

  it('refreshes nothing for events of other streams', () => {
    expect(staleShopData([event(1, 'user-a'), event(2, 'reservation-b')])).toEqual({});
  });
});
