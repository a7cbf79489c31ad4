import { describe, expect, it } from 'vitest';
import { closestName, editDistance } from '../../src/core/closestName.js';

describe('closestName', () => {
  it('counts two swapped neighbouring letters as one typo', () => {
    expect(editDistance('$nro', '$nor')).toBe(1);
    expect(closestName('$nro', ['$ne', '$nor', '$not'])).toBe('$nor');
    expect(closestName('insetr', ['insert', 'invalidate'])).toBe('insert');
  });

  it('still counts insertions, deletions and substitutions, and suggests nothing far away', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(closestName('$regx', ['$regex', '$eq'])).toBe('$regex');
    expect(closestName('$foo', ['$regex', '$elemMatch'])).toBeUndefined();
  });
});
