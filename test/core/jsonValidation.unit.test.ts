import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/core/errors.js';
import { assertJsonValue, isPlainJson, LIMITS } from '../../src/core/validation.js';

// The careful walk, as assertJsonValue runs it when the quick check refuses a value.
const carefulAccepts = (value: unknown, allowDates: boolean): boolean => {
  try {
    // assertJsonValue walks carefully only after the quick check refused: wrap the value
    // beside a NaN so it always does; an error at `v.refused` means the value itself passed.
    assertJsonValue({ probe: value, refused: Number.NaN }, 'v', { allowDates });
    return true;
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).message.startsWith('v.refused');
  }
};

const loneSurrogate = fc.constantFrom('\uD800', 'a\uDC00b', '\uDBFFx');
const leaf = fc.oneof(
  fc.string(),
  loneSurrogate,
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.bigInt(),
  fc.date({ noInvalidDate: false }),
  fc.constant(() => 1),
  fc.constant(Symbol('s')),
  fc.constant(new Map()),
);
const value = fc.letrec((tie) => ({
  tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('array'), tie('object')),
  array: fc.oneof(
    fc.array(tie('tree'), { maxLength: 4 }),
    fc.sparseArray(tie('tree'), { maxLength: 4 }),
  ),
  object: fc.dictionary(
    fc.oneof(fc.string(), loneSurrogate, fc.constant('a\u0000b')),
    tie('tree'),
    {
      maxKeys: 4,
    },
  ),
})).tree;

describe('the quick JSON check in front of the careful one', () => {
  it('accepts exactly what the careful walk accepts, for any value', () => {
    fc.assert(
      fc.property(value, fc.boolean(), (v, allowDates) => {
        expect(isPlainJson(v, allowDates)).toBe(carefulAccepts(v, allowDates));
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses a cycle (which it does not track) at the depth limit, and the careful walk names it', () => {
    const a: Record<string, unknown> = { x: 1 };
    a.self = a;
    expect(isPlainJson(a, false)).toBe(false);
    expect(() => assertJsonValue(a, 'doc')).toThrow(/doc\.self: is a circular reference/);
  });

  it('names the exact path of a lone surrogate deep inside an otherwise valid payload', () => {
    let nested: unknown = { bad: ['ok', '\uD800'] };
    for (let i = 0; i < LIMITS.maxDepth - 5; i++) nested = { n: nested };
    expect(isPlainJson(nested, false)).toBe(false);
    expect(() => assertJsonValue(nested, 'data')).toThrow(/\.bad\[1\]: contains a lone surrogate/);
  });
});
