import type { ChangeMessage, ResumePoint } from './relayChange.js';

/** A stream's durable resume point. */
export interface RelayCheckpoint extends ResumePoint {
  streamKey: string;
  updatedAt: Date;
}

/** A change that failed every attempt, parked with the reason. */
export interface DeadLetter {
  /** The change's idempotency key (unique per relay). */
  key: string;
  streamKey: string;
  orderingKey: string;
  /** The step that failed, e.g. `pipeline[1].http`. */
  step: string;
  reason: string;
  attempts: number;
  /** The change as the source produced it (before any step). */
  message: ChangeMessage;
  sourceTimeMs?: number;
  deadAt: Date;
}

export interface LeaseRecord {
  owner: string | null;
  /** Bumped on every renewal: a standby watches it change. */
  version: number;
}

/**
 * Where a relay keeps checkpoints, dead letters and its lease, all scoped by the relay's
 * name. Implementations: MongoDB (a relay-owned database) and SQLite (a file).
 */
export interface RelayStateStore {
  readonly description: string;
  loadCheckpoint(streamKey: string): Promise<RelayCheckpoint | undefined>;
  saveCheckpoint(checkpoint: RelayCheckpoint): Promise<void>;
  listCheckpoints(): Promise<RelayCheckpoint[]>;
  deleteCheckpoints(): Promise<void>;
  addDeadLetter(entry: DeadLetter): Promise<void>;
  listDeadLetters(options?: { limit?: number }): Promise<DeadLetter[]>;
  removeDeadLetter(key: string): Promise<void>;
  readLease(): Promise<LeaseRecord | undefined>;
  /** Creates the lease for `owner`; false when it exists. */
  createLease(owner: string): Promise<boolean>;
  /** Sets owner and bumps the version if the version is still `expected`. */
  swapLease(expected: number, owner: string | null): Promise<boolean>;
  close(): Promise<void>;
}
