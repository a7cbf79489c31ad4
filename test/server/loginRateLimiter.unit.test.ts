import { describe, expect, it } from 'vitest';
import { createLoginRateLimiter, limitedAddress } from '../../src/server/loginRateLimiter.js';

describe('the login rate limiter', () => {
  it('counts a whole IPv6 /64 as one address and an IPv4-mapped address as its IPv4 one', () => {
    expect(limitedAddress('2001:db8:0:1:aaaa::1')).toBe('2001:db8:0:1::/64');
    expect(limitedAddress('2001:DB8:0000:1::ffff')).toBe('2001:db8:0:1::/64');
    expect(limitedAddress('::1')).toBe('0:0:0:0::/64');
    expect(limitedAddress('::ffff:127.0.0.2')).toBe('127.0.0.2');
    expect(limitedAddress('127.0.0.2')).toBe('127.0.0.2');

    const limiter = createLoginRateLimiter({ maxFailures: 2 });
    expect(limiter.begin('2001:db8:0:1::1', 'ada').allowed).toBe(true);
    expect(limiter.begin('2001:db8:0:1::2', 'ada').allowed).toBe(true);
    expect(limiter.begin('2001:db8:0:1::3', 'ada').allowed).toBe(false);
    expect(limiter.begin('2001:db8:0:2::1', 'ada').allowed).toBe(true);
  });

  it('backs off exponentially after the limit instead of locking out for the whole window', () => {
    let clock = 1_000_000;
    const limiter = createLoginRateLimiter({
      maxFailures: 2,
      backoffMs: 10_000,
      windowMs: 600_000,
      now: () => clock,
    });
    const waits: number[] = [];
    limiter.begin('127.0.0.2', 'ada');
    limiter.begin('127.0.0.2', 'ada');
    for (let i = 0; i < 4; i++) {
      const refused = limiter.begin('127.0.0.2', 'ada');
      if (refused.allowed) throw new Error(`attempt ${i} was allowed during the back-off`);
      waits.push(refused.retryAfterSeconds);
      clock += refused.retryAfterSeconds * 1000;
      expect(limiter.begin('127.0.0.2', 'ada').allowed).toBe(true);
    }
    expect(waits).toEqual([10, 20, 40, 80]);
  });
});
