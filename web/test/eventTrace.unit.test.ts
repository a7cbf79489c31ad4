import { describe, expect, it } from 'vitest';
import { correlationIdOf, traceIdOf } from '../src/lib/eventTrace.ts';

describe('an event’s trace and correlation in the explorer', () => {
  it('reads the trace id from a valid traceparent and nothing from a malformed or all-zero one', () => {
    const id = '4bf92f3577b34da6a3ce929d0e0e4736';
    expect(traceIdOf({ traceparent: `00-${id}-00f067aa0ba902b7-01` })).toBe(id);
    expect(traceIdOf({ traceparent: 'not-a-traceparent' })).toBeUndefined();
    expect(traceIdOf({ traceparent: `00-${'0'.repeat(32)}-00f067aa0ba902b7-01` })).toBeUndefined();
    expect(traceIdOf({ traceparent: 42 })).toBeUndefined();
    expect(traceIdOf({})).toBeUndefined();
  });

  it('reads a non-empty correlation id only', () => {
    expect(correlationIdOf({ correlationId: 'c-1' })).toBe('c-1');
    expect(correlationIdOf({ correlationId: '' })).toBeUndefined();
    expect(correlationIdOf({ correlationId: 7 })).toBeUndefined();
  });
});
