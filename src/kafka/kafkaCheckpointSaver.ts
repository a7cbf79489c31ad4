import { type Backoff, backoffDelay, sleep } from '../core/async.js';
import { isStoreClosedError } from '../core/errors.js';
import type { CheckpointStore } from '../core/types.js';

export interface CheckpointSaverSettings {
  checkpoints: Pick<CheckpointStore, 'save'>;
  name: string;
  backoff: Backoff;
  /** Ends the retries of a failing save. */
  signal: AbortSignal;
  /** The latest position to store (what Kafka acknowledged). */
  position: () => number;
  /** The position stored last. */
  saved: () => number;
  onSaved: (position: number) => void;
  onFailed: (position: number, error: unknown) => void;
}

/**
 * Stores the publisher's acknowledged position as its durable checkpoint in the background,
 * one save at a time and always the latest position, so a slow store never holds up a send.
 */
export class CheckpointSaver {
  readonly #s: CheckpointSaverSettings;
  #saving: Promise<void> | undefined;
  #wanted = false;

  constructor(settings: CheckpointSaverSettings) {
    this.#s = settings;
  }

  /** Saves the latest acknowledged position without holding up the next send. */
  schedule(): void {
    this.#wanted = true;
    this.#saving ??= this.#loop().finally(() => (this.#saving = undefined));
  }

  /** Resolves once no save is under way. */
  async idle(): Promise<void> {
    while (this.#saving) await this.#saving;
  }

  async #loop(): Promise<void> {
    const s = this.#s;
    let failures = 0;
    while (this.#wanted) {
      this.#wanted = false;
      const position = s.position();
      if (position <= s.saved()) continue;
      try {
        await s.checkpoints.save(s.name, position);
        s.onSaved(position);
        failures = 0;
      } catch (error) {
        s.onFailed(position, error);
        if (isStoreClosedError(error)) return;
        this.#wanted = true;
        await sleep(backoffDelay(++failures, s.backoff), s.signal);
        if (s.signal.aborted) return;
      }
    }
  }
}
