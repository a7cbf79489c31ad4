import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveOnSocket } from './realSocket.js';
import { createHarness, type Harness, type Session } from './serverHarness.js';

const ADA_ORDER = '0190a1b2-c3d4-7e5f-8a9b-00000000000a';
const BOB_ORDER = '0190a1b2-c3d4-7e5f-8a9b-00000000000b';
const PRODUCT = '0190a1b2-c3d4-7e5f-8a9b-0000000000cc';

interface LiveMessage {
  streamId: string;
  type: string;
  position: number;
  data: Record<string, unknown>;
}

/**
 * Reads `/api/shop/live?from=0` over a real socket until an event at `lastPosition` or later
 * arrives (every event before it was sent or skipped by then), then hangs up.
 */
async function followUntil(
  base: string,
  lastPosition: number,
  session?: Session,
): Promise<LiveMessage[]> {
  const abort = new AbortController();
  const res = await fetch(`${base}/api/shop/live?from=0`, {
    headers: session === undefined ? {} : { cookie: session.cookie },
    signal: abort.signal,
  });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const received: LiveMessage[] = [];
  let buffered = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the stream ended after ${received.length} events`);
      buffered += value;
      const messages = buffered.split('\n\n');
      buffered = messages.pop() ?? '';
      for (const message of messages) {
        const data = /^data: (.*)$/m.exec(message)?.[1];
        if (data === undefined || /^event: /m.test(message)) continue;
        const event = JSON.parse(data) as LiveMessage;
        received.push(event);
        if (event.position >= lastPosition) return received;
      }
    }
  } finally {
    abort.abort();
  }
}

describe('the shop live feed (GET /api/shop/live)', () => {
  let harness: Harness;
  let socket: { base: string; close(): Promise<void> };
  let last: number;

  beforeAll(async () => {
    harness = await createHarness({ explorerAccess: 'admin' });
    const ada = await harness.register('ada');
    const bob = await harness.register('bob');
    const placed = (orderId: string, userId: string, username: string) => ({
      type: 'OrderPlaced',
      data: { orderId, userId, username, items: [], totalCents: 0 },
    });
    await harness.store.appendToStream(`order-${BOB_ORDER}`, [placed(BOB_ORDER, bob.id, 'bob')]);
    await harness.store.appendToStream(`product-${PRODUCT}`, [
      { type: 'StockReserved', data: { orderId: BOB_ORDER, quantity: 1 } },
    ]);
    await harness.store.appendToStream(`order-${ADA_ORDER}`, [placed(ADA_ORDER, ada.id, 'ada')]);
    last = await harness.store.headPosition();
    socket = await serveOnSocket(harness.server.fetch);
  });
  afterAll(async () => {
    await socket?.close();
    await harness?.close();
  });

  it('sends a shopper the product events and their own orders\u2019 events, not other people\u2019s orders', async () => {
    const ada = await harness.login('ada');
    const events = await followUntil(socket.base, last, ada);
    expect(events.map((e) => e.streamId)).toEqual([`product-${PRODUCT}`, `order-${ADA_ORDER}`]);
    expect(events[1]!.data.username).toBe('ada');
  });

  it('sends an anonymous visitor only the product events', async () => {
    await harness.store.appendToStream(`product-${PRODUCT}`, [
      { type: 'StockReleased', data: { orderId: BOB_ORDER, quantity: 1 } },
    ]);
    const events = await followUntil(socket.base, await harness.store.headPosition());
    expect(events.map((e) => [e.streamId, e.type])).toEqual([
      [`product-${PRODUCT}`, 'StockReserved'],
      [`product-${PRODUCT}`, 'StockReleased'],
    ]);
  });

  it('sends an admin every order, each person\u2019s personal fields included', async () => {
    await harness.register('root');
    const root = await harness.login('root');
    const events = await followUntil(socket.base, last, root);
    expect(events.map((e) => e.streamId)).toEqual([
      `order-${BOB_ORDER}`,
      `product-${PRODUCT}`,
      `order-${ADA_ORDER}`,
    ]);
  });

  it('refuses a Last-Event-ID that is no position with problem+json', async () => {
    const res = await fetch(`${socket.base}/api/shop/live`, {
      headers: { 'last-event-id': 'yesterday' },
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(await res.json()).toMatchObject({ errors: [{ field: 'headers.last-event-id' }] });
  });
});
