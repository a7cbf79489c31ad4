import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cachedKeySerializer, headerNameBytes } from '../../src/kafka/kafkaSerializers.js';

describe('Kafka serializers that encode repeated strings once', () => {
  it('encode every key as UTF-8, whatever the order and however often it repeats, across cache resets', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string(), fc.constantFrom('user-1', 'order-ü-7', '🙂')), {
          maxLength: 200,
        }),
        (keys) => {
          const serialize = cachedKeySerializer();
          for (const key of keys) expect(serialize(key)).toEqual(Buffer.from(key, 'utf8'));
        },
      ),
    );
    // More distinct keys than the cache holds: it starts over and stays right.
    const serialize = cachedKeySerializer();
    for (let i = 0; i < 10_000; i++) {
      const key = `stream-${i % 5000}`;
      expect(serialize(key)?.toString('utf8')).toBe(key);
    }
  });

  it('pass a missing key or header name on as missing', () => {
    expect(cachedKeySerializer()(undefined)).toBeUndefined();
    expect(headerNameBytes(undefined)).toBeUndefined();
  });

  it('give the same bytes for a header name each time, and encode any name correctly', () => {
    expect(headerNameBytes('event-id')).toBe(headerNameBytes('event-id'));
    fc.assert(
      fc.property(fc.string(), (name) => {
        expect(headerNameBytes(name)).toEqual(Buffer.from(name, 'utf8'));
      }),
    );
  });
});
