import type { Logger } from '../core/logger.js';
import { errorMessage, sleep } from '../core/async.js';
import type { RelayStateStore } from './relayStateStore.js';

/**
 * Leader election for relays sharing one name: the lease document holds an owner and a
 * version the owner bumps every `ttlMs / 3`. A standby watches the version; when it has not
 * moved for `ttlMs` by the standby's own clock, the standby swaps itself in (compare-and-set
 * on the version). No clock comparisons across machines are involved. An owner that cannot
 * renew for most of `ttlMs` stops on its own before anyone can take over.
 */
export class RelayLease {
  #version = 0;
  #held = false;
  #lastRenewed = 0;
  #renewer: Promise<void> | undefined;
  #stopRenewing = new AbortController();
  #lost: (reason: string) => void = () => undefined;

  constructor(
    private readonly state: RelayStateStore,
    readonly owner: string,
    private readonly ttlMs: number,
    private readonly log: Logger,
    /** Whether a lease holder is this relay's own earlier run, known to be gone. */
    private readonly isOwnDeadPredecessor: (owner: string) => boolean = () => false,
  ) {}

  get held(): boolean {
    return this.#held && Date.now() - this.#lastRenewed < this.ttlMs * 0.8;
  }

  /** Waits until this process holds the lease; false when `signal` aborted first. */
  async acquire(signal: AbortSignal): Promise<boolean> {
    let observed: { version: number; since: number } | undefined;
    let announced = false;
    const pollMs = Math.max(100, Math.min(1000, Math.floor(this.ttlMs / 5)));
    while (!signal.aborted) {
      try {
        const lease = await this.state.readLease();
        if (lease === undefined) {
          if (await this.state.createLease(this.owner)) return this.#won(1);
        } else if (lease.owner === null || lease.owner === this.owner) {
          if (await this.state.swapLease(lease.version, this.owner))
            return this.#won(lease.version + 1);
        } else if (this.isOwnDeadPredecessor(lease.owner)) {
          // Restarted after a crash: waiting out the ttl behind our own dead run gains nothing.
          if (await this.state.swapLease(lease.version, this.owner)) {
            this.log.info(
              {
                previous: lease.owner,
              },
              "took over the lease from this relay's previous run",
            );
            return this.#won(lease.version + 1);
          }
        } else if (observed?.version !== lease.version) {
          observed = { version: lease.version, since: Date.now() };
          if (!announced) {
            this.log.info({ holder: lease.owner }, 'standing by: another relay holds the lease');
            announced = true;
          }
        } else if (Date.now() - observed.since >= this.ttlMs) {
          if (await this.state.swapLease(lease.version, this.owner)) {
            this.log.warn({ previous: lease.owner }, 'took over the lease from a silent relay');
            return this.#won(lease.version + 1);
          }
        }
      } catch (error) {
        this.log.warn({ error: errorMessage(error) }, 'lease check failed; retrying');
      }
      await sleep(pollMs, signal);
    }
    return false;
  }

  #won(version: number): boolean {
    this.#version = version;
    this.#held = true;
    this.#lastRenewed = Date.now();
    this.#stopRenewing = new AbortController();
    this.#renewer = this.#renew(this.#stopRenewing.signal);
    return true;
  }

  /** Resolves with a reason when the lease is lost (not on release). */
  lost(): Promise<string> {
    return new Promise((resolve) => {
      this.#lost = resolve;
    });
  }

  async #renew(signal: AbortSignal): Promise<void> {
    const every = Math.max(50, Math.floor(this.ttlMs / 3));
    while (!signal.aborted) {
      await sleep(every, signal);
      if (signal.aborted) return;
      try {
        if (await this.state.swapLease(this.#version, this.owner)) {
          this.#version++;
          this.#lastRenewed = Date.now();
          continue;
        }
        this.#held = false;
        this.#lost('another relay took the lease over');
        return;
      } catch (error) {
        this.log.warn({ error: errorMessage(error) }, 'lease renewal failed');
      }
      if (!this.held) {
        this.#held = false;
        this.#lost(`the lease could not be renewed for ${Math.round(this.ttlMs * 0.8)} ms`);
        return;
      }
    }
  }

  /** Gives the lease up so a standby takes over at once. */
  async release(): Promise<void> {
    this.#stopRenewing.abort();
    await this.#renewer;
    if (!this.#held) return;
    this.#held = false;
    try {
      await this.state.swapLease(this.#version, null);
    } catch (error) {
      this.log.warn(
        {
          error: errorMessage(error),
        },
        'lease release failed; a standby takes over after the ttl',
      );
    }
  }
}
