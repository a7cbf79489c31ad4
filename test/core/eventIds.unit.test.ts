import { describe, expect, it } from 'vitest';
import { idempotentEventId, newEventId } from '../../src/core/index.js';

/** RFC 9562: version nibble, then the variant bits 10xx. */
const uuidOfVersion = (version: number) =>
  new RegExp(`^[0-9a-f]{8}-[0-9a-f]{4}-${version}[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`);

describe('newEventId', () => {
  it('makes RFC 9562 version 7 UUIDs whose timestamp is the time of the call', () => {
    const before = Date.now();
    const id = newEventId();
    const after = Date.now();
    expect(id).toMatch(uuidOfVersion(7));
    const ms = parseInt(id.replaceAll('-', '').slice(0, 12), 16);
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(after);
  });

  it('never repeats an id and sorts ids in the order they were made, over many draws', () => {
    const ids = Array.from({ length: 50_000 }, () => newEventId());
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    for (const id of ids.slice(0, 1000)) expect(id).toMatch(uuidOfVersion(7));
  });
});

describe('idempotentEventId', () => {
  it('derives RFC 9562 version 5 UUIDs, the same for the same inputs', () => {
    const ids = ['', 'cart-1', 'user-é✓', 'x'.repeat(300)].map((stream) =>
      idempotentEventId(stream, 'req-1', 3),
    );
    for (const id of ids) expect(id).toMatch(uuidOfVersion(5));
    expect(new Set(ids).size).toBe(ids.length);
    expect(idempotentEventId('cart-1', 'req-1', 3)).toBe(ids[1]);
  });
});
