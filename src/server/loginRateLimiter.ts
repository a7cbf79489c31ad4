export interface LoginRateLimitOptions {
  /** Failed attempts per client address and username within the window. Default 5. */
  maxFailures?: number;
  /** Failed attempts per client address (any usernames) within the window. Default 50. */
  maxFailuresPerAddress?: number;
  /** Default 15 minutes. */
  windowMs?: number;
  now?: () => number;
}

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export interface LoginRateLimiter {
  /**
   * Starts a login attempt: refused while the limits are reached, else counted as a failure
   * right away — so parallel guesses cannot slip through before the first one fails.
   */
  begin(address: string, username: string): RateDecision;
  /** The attempt succeeded: forget the failures of that address and username. */
  succeeded(address: string, username: string): void;
}

/** Keys kept before old entries are swept; bounds memory under a flood of usernames. */
const SWEEP_ABOVE = 10_000;

/**
 * Sliding-window limits on failed logins: per address and username (guessing one account's
 * password) and per address (spraying many accounts). Only failures count, so a user who
 * logs in correctly is never slowed down.
 */
export function createLoginRateLimiter(options: LoginRateLimitOptions = {}): LoginRateLimiter {
  const maxFailures = options.maxFailures ?? 5;
  const maxPerAddress = options.maxFailuresPerAddress ?? 50;
  const windowMs = options.windowMs ?? 15 * 60_000;
  const now = options.now ?? Date.now;
  const failures = new Map<string, number[]>();

  const pairKey = (address: string, username: string) =>
    `u\u0000${address}\u0000${username.toLowerCase()}`;
  const addressKey = (address: string) => `a\u0000${address}`;
  const recent = (key: string): number[] => {
    const cutoff = now() - windowMs;
    const times = (failures.get(key) ?? []).filter((t) => t > cutoff);
    if (times.length === 0) failures.delete(key);
    else failures.set(key, times);
    return times;
  };
  const blockedFor = (key: string, max: number): number => {
    const times = recent(key);
    if (times.length < max) return 0;
    const oldest = times[times.length - max] as number;
    return Math.max(1, Math.ceil((oldest + windowMs - now()) / 1000));
  };
  const sweep = (): void => {
    if (failures.size <= SWEEP_ABOVE) return;
    for (const key of [...failures.keys()]) recent(key);
  };

  return {
    begin(address, username) {
      const wait = Math.max(
        blockedFor(pairKey(address, username), maxFailures),
        blockedFor(addressKey(address), maxPerAddress),
      );
      if (wait > 0) return { allowed: false, retryAfterSeconds: wait };
      sweep();
      for (const key of [pairKey(address, username), addressKey(address)]) {
        const times = recent(key);
        times.push(now());
        failures.set(key, times.slice(-Math.max(maxFailures, maxPerAddress)));
      }
      return { allowed: true };
    },
    succeeded(address, username) {
      failures.delete(pairKey(address, username));
      const times = failures.get(addressKey(address));
      times?.pop();
      if (times?.length === 0) failures.delete(addressKey(address));
    },
  };
}
