import { describe, expect, it } from 'vitest';
import { toEventJson } from '../../src/core/eventJson.js';
import { streamCategory } from '../../src/core/streamCategory.js';

describe('event wire form', () => {
  it('is the recorded event with recordedAt as an ISO string, and nothing more', () => {
    const json = toEventJson({
      id: 'e-1',
      streamId: 'user-42',
      type: 'UserRenamed',
      data: { name: 'Ada' },
      metadata: { correlationId: 'c-1' },
      version: 2,
      position: 9,
      recordedAt: new Date('2026-05-06T07:08:09.010Z'),
    });
    expect(JSON.parse(JSON.stringify(json))).toEqual({
      id: 'e-1',
      streamId: 'user-42',
      type: 'UserRenamed',
      data: { name: 'Ada' },
      metadata: { correlationId: 'c-1' },
      version: 2,
      position: 9,
      recordedAt: '2026-05-06T07:08:09.010Z',
    });
  });
});

describe('stream category', () => {
  it('is the stream id up to its first dash', () => {
    expect(streamCategory('order-0190-ab')).toBe('order');
    expect(streamCategory('plain')).toBe('plain');
    expect(streamCategory('-odd')).toBe('');
  });
});
