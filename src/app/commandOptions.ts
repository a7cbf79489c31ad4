import type { EventMetadata } from '../core/index.js';

/** What every write of the app takes besides its input. */
export interface WriteOptions {
  /** The version the client last saw (an HTTP `If-Match`): a different one is `stale_version`. */
  expectedVersion?: number;
  /** Makes a create or payment safe to send again: the same key answers the original result. */
  idempotencyKey?: string;
  /** Stored on every event (request id, actor…); never put secrets here. */
  metadata?: EventMetadata;
}

/** What a write answers besides its result. */
export interface WriteResult<T> {
  value: T;
  /** Global position of the last event written: read models include it once they reach it. */
  position: number;
  /** The stream's version after the write (the new ETag). */
  version: number;
  /** True when an earlier write with the same idempotency key answered and nothing was written. */
  replayed: boolean;
}
