export interface LoginRateLimitOptions {
  /** Failed attempts per client address and username before back-off starts. Default 5. */
  maxFailures?: number;
  /** Failed attempts per client address (any usernames) before back-off starts. Default 50. */
  maxFailuresPerAddress?: number;
  /** First back-off once a limit is reached; it doubles with every further failure. Default 15 s. */
  backoffMs?: number;
  /** Failures are forgotten this long after they happened; also the longest back-off. Default 15 minutes. */
  windowMs?: number;
  now?: () => number;
}

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export interface LoginRateLimiter {
  /**
   * Starts a login attempt: refused while the address backs off, else counted as a failure
   * right away — so parallel guesses cannot slip through before the first one fails.
   */
  begin(address: string, username: string): RateDecision;
  /** The attempt succeeded: forget the failures of that address and username. */
  succeeded(address: string, username: string): void;
}

/** Keys kept before old entries are swept; bounds memory under a flood of usernames. */
const SWEEP_ABOVE = 10_000;

/**
 * The part of an address a limit applies to: one IPv6 host usually owns a whole /64, so
 * counting single IPv6 addresses would let it rotate through billions of them.
 */
export function limitedAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1] !== undefined) return mapped[1];
  if (!address.includes(':')) return address;
  const [head = '', tail = ''] = address.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = address.includes('::')
    ? [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/**
 * Throttles failed logins the way OWASP recommends, without lockouts anyone else can
 * trigger: failures count per client address and username (guessing one account) and per
 * client address (spraying many accounts). Past a limit that address waits, and the wait
 * doubles with each further failure up to the window. Nothing counts per account alone or
 * globally, so failures from other addresses never keep a user out, and only failures count,
 * so a user who logs in correctly is never slowed down.
 */
export function createLoginRateLimiter(options: LoginRateLimitOptions = {}): LoginRateLimiter {
  const maxFailures = options.maxFailures ?? 5;
  const maxPerAddress = options.maxFailuresPerAddress ?? 50;
  const windowMs = options.windowMs ?? 15 * 60_000;
  const backoffMs = Math.min(options.backoffMs ?? 15_000, windowMs);
  const now = options.now ?? Date.now;
  const failures = new Map<string, number[]>();

  const pairKey = (address: string, username: string) =>
    `u\u0000${limitedAddress(address)}\u0000${username.toLowerCase()}`;
  const addressKey = (address: string) => `a\u0000${limitedAddress(address)}`;
  const recent = (key: string): number[] => {
    const cutoff = now() - windowMs;
    const times = (failures.get(key) ?? []).filter((t) => t > cutoff);
    if (times.length === 0) failures.delete(key);
    else failures.set(key, times);
    return times;
  };
  const waitMs = (key: string, max: number): number => {
    const times = recent(key);
    if (times.length < max) return 0;
    const doublings = Math.min(times.length - max, 30);
    const backoff = Math.min(backoffMs * 2 ** doublings, windowMs);
    return (times.at(-1) as number) + backoff - now();
  };
  const sweep = (): void => {
    if (failures.size <= SWEEP_ABOVE) return;
    for (const key of [...failures.keys()]) recent(key);
  };
  // Enough history to know how far past each limit an address is.
  const kept = Math.max(maxFailures, maxPerAddress) + 32;

  return {
    begin(address, username) {
      const wait = Math.max(
        waitMs(pairKey(address, username), maxFailures),
        waitMs(addressKey(address), maxPerAddress),
      );
      if (wait > 0)
        return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(wait / 1000)) };
      sweep();
      for (const key of [pairKey(address, username), addressKey(address)]) {
        const times = recent(key);
        times.push(now());
        failures.set(key, times.slice(-kept));
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
