/** Small timing primitives shared by the long-running loops. No I/O. */

export interface Backoff {
  initialDelayMs: number;
  maxDelayMs: number;
}

/** Exponential backoff with full jitter ("decorrelated" enough for our loops). */
export function backoffDelay(attempt: number, { initialDelayMs, maxDelayMs }: Backoff): number {
  const ceiling = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

/** Resolves after `ms`, or early (without rejecting) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Resolves after one real turn of the event loop (not a microtask), so timers, I/O and
 * other callbacks get to run during a long loop over local data.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    if (typeof globalThis.setImmediate === 'function') globalThis.setImmediate(resolve);
    else setTimeout(resolve, 0);
  });
}

/**
 * A wake-up signal: `wait()` resolves on the next `notify()`, on timeout or on abort. Stores
 * notify on every append so live subscribers react at once; the timeout covers appends made
 * by other processes.
 */
export class Notifier {
  #waiters = new Set<() => void>();
  #version = 0;

  /** Bumped by every `notify()`: read it before looking for work, pass it to `wait`. */
  get version(): number {
    return this.#version;
  }

  notify(): void {
    this.#version++;
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
  }

  /**
   * Waits for the next `notify()`. With `seenVersion` (the `version` read before the caller
   * last looked for work) it returns at once if a notify happened since, so a wake-up that
   * arrives while the caller is busy is never lost.
   */
  wait(timeoutMs: number, signal?: AbortSignal, seenVersion?: number): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      if (seenVersion !== undefined && seenVersion !== this.#version) return resolve();
      const wake = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', wake);
        this.#waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, timeoutMs);
      this.#waiters.add(wake);
      signal?.addEventListener('abort', wake, { once: true });
    });
  }
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/**
 * Callers parked until there is room or work: `wait()` resolves on the next `releaseAll()`.
 * Unlike {@link Notifier} it has no timeout; the loops that use it release on stop.
 */
export class WaitList {
  #waiters: (() => void)[] = [];

  get size(): number {
    return this.#waiters.length;
  }

  wait(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  releaseAll(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}

/**
 * Callers waiting for a loop to reach a position (a subscription's `waitFor`): each resolves
 * once `reached` reports its position or beyond, or rejects on timeout or `failAll`.
 */
export class PositionWaiters {
  #waiters = new Set<{ position: number; resolve: () => void; reject: (e: Error) => void }>();

  /** Resolves when `reached(p)` is called with `p >= position`; rejects with `onTimeout()` after `timeoutMs`. */
  wait(position: number, timeoutMs: number, onTimeout: () => Error): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(onTimeout());
      }, timeoutMs);
      const waiter = {
        position,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.#waiters.add(waiter);
    });
  }

  /** Resolves the waiters for `position` or earlier. */
  reached(position: number): void {
    for (const w of this.#waiters) {
      if (position < w.position) continue;
      this.#waiters.delete(w);
      w.resolve();
    }
  }

  /** Rejects every waiter with `error`. */
  failAll(error: unknown): void {
    const e = error instanceof Error ? error : new Error(String(error));
    for (const w of this.#waiters) w.reject(e);
    this.#waiters.clear();
  }
}

/** A promise settled from outside. */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

/**
 * A promise with its settle functions outside (a `ready` or `started` of a long-running
 * loop). A rejection nobody awaits is not an unhandled rejection; awaiting it still throws.
 */
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/** Settles like `promise`, or with what `onTimeout` returns (or throws) after `ms`; the timer is cleared either way. */
export async function withTimeout<T, U>(
  promise: Promise<T>,
  ms: number,
  onTimeout: () => U,
): Promise<T | U> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<U>((resolve, reject) => {
    timer = setTimeout(() => {
      try {
        resolve(onTimeout());
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    }, ms);
  });
  try {
    return await Promise.race([promise, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
