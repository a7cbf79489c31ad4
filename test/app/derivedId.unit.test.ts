import { describe, expect, it } from 'vitest';
import { derivedId } from '../../src/app/derivedId.js';

const UUID_V8 = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('derivedId', () => {
  it('derives RFC 9562 version 8 UUIDs, the same for the same parts', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => derivedId('order', 'user-1', `key-${i}`));
    for (const id of ids) expect(id).toMatch(UUID_V8);
    expect(new Set(ids).size).toBe(ids.length);
    expect(derivedId('order', 'user-1', 'key-7')).toBe(ids[7]);
  });

  it('keeps the parts apart: joining them differently gives another id', () => {
    expect(derivedId('ab', 'c')).not.toBe(derivedId('a', 'bc'));
    expect(derivedId('a\u0000b')).not.toBe(derivedId('a', 'b'));
  });
});
