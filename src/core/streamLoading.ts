import { errorMessage } from './async.js';
import { checkSnapshotOptions } from './commandOptions.js';
import { ValidationError } from './errors.js';
import { type Logger, noopLogger } from './logger.js';
import type { EventStore, RecordedEvent, Snapshot, SnapshotStore } from './types.js';

/** Where and why a snapshot could not be used or stored. */
export interface SnapshotErrorContext {
  streamId: string;
  operation: 'load' | 'save';
  /** The stream version of the snapshot concerned, when known. */
  version?: number;
}

/** Called when a snapshot cannot be loaded, does not match its stream, or cannot be saved. */
export type SnapshotErrorHandler = (error: unknown, context: SnapshotErrorContext) => void;

/** The snapshot options the command handler and the aggregate repository share. */
export interface SnapshotSettings {
  store: SnapshotStore;
  every: number;
  schemaVersion?: number;
  onSnapshotError?: SnapshotErrorHandler;
}

export interface StreamLoaderOptions {
  store: EventStore;
  snapshots: SnapshotSettings | undefined;
  /** What a snapshot failure leaves unaffected, as the default warning words it: 'command'. */
  unaffected: string;
  /** Where a snapshot failure goes when there is no `onSnapshotError`. Default: nowhere. */
  logger: Logger | undefined;
}

export interface LoadedStream<T> {
  /** Set when the load started from a snapshot: what it was restored to, at its event. */
  snapshot: { restored: T; version: number; position: number } | undefined;
  /** The events after the snapshot, or the whole stream. */
  events: RecordedEvent[];
  /**
   * The stream's version as loaded: that of the last event read, or for a stream that
   * reads as empty its stored version (a soft-deleted stream keeps it; 0 for none).
   */
  version: number;
}

export interface StreamLoader<S> {
  /**
   * Reads a stream from its snapshot when `restore` is given and the snapshot fits the
   * stream, else from the start. A snapshot that cannot be used (or restored) is reported
   * and ignored.
   */
  load<T>(
    streamId: string,
    restore: ((state: S, version: number) => T) | undefined,
  ): Promise<LoadedStream<T>>;
  /** Stores `state()` when an append from `fromVersion` to `toVersion` crossed a multiple of `every`. */
  saveSnapshot(
    streamId: string,
    fromVersion: number,
    toVersion: number,
    state: () => S,
  ): Promise<void>;
}

/**
 * Loading and snapshotting of streams for the command handler and the aggregate repository.
 * Snapshot failures never fail a load or a save (the events are the truth); they are
 * reported to `onSnapshotError`, by default as a warning on the logger.
 */
export function createStreamLoader<S>({
  store,
  snapshots,
  unaffected,
  logger = noopLogger,
}: StreamLoaderOptions): StreamLoader<S> {
  const schemaVersion = checkSnapshotOptions(snapshots);

  const report: SnapshotErrorHandler = (error, context) => {
    try {
      if (snapshots?.onSnapshotError) snapshots.onSnapshotError(error, context);
      else
        logger.warn(
          { ...context, error },
          `snapshot ${context.operation} failed for stream '${context.streamId}' (the ${unaffected} itself is unaffected): ${errorMessage(error)}`,
        );
    } catch {
      // A failing reporter must not fail a load or save that otherwise worked.
    }
  };

  async function loadSnapshot(streamId: string): Promise<Snapshot<S> | undefined> {
    if (snapshots === undefined) return undefined;
    let snapshot: Snapshot<S> | undefined;
    try {
      snapshot = await snapshots.store.load<S>(streamId);
    } catch (error) {
      report(error, { streamId, operation: 'load' });
      return undefined;
    }
    // Another schema version is the expected outcome of changing the state's shape, not a fault.
    if (snapshot === undefined || snapshot.schemaVersion !== schemaVersion) return undefined;
    if (
      snapshot.streamId !== streamId ||
      !Number.isSafeInteger(snapshot.version) ||
      snapshot.version < 1
    ) {
      report(
        new ValidationError(
          'snapshot',
          `the snapshot loaded for stream '${streamId}' is for stream '${snapshot.streamId}' at version ${String(snapshot.version)}; ignoring it`,
        ),
        { streamId, operation: 'load' },
      );
      return undefined;
    }
    return snapshot;
  }

  return {
    async load(streamId, restore) {
      const snapshot = restore !== undefined ? await loadSnapshot(streamId) : undefined;
      if (restore !== undefined && snapshot !== undefined) {
        const context: SnapshotErrorContext = {
          streamId,
          operation: 'load',
          version: snapshot.version,
        };
        // Reading from the snapshot's own version (not the one after it) proves the snapshot
        // still matches the stream: after a delete or a reset that event is gone, and folding
        // new events onto the old state would silently resurrect deleted history.
        const tail = await store.readStream(streamId, { from: snapshot.version });
        const anchor = tail[0];
        if (anchor !== undefined && anchor.version === snapshot.version) {
          try {
            const restored = restore(snapshot.state, anchor.version);
            return {
              snapshot: { restored, version: anchor.version, position: anchor.position },
              events: tail.slice(1),
              version: (tail.at(-1) as RecordedEvent).version,
            };
          } catch (error) {
            report(error, context);
          }
        } else {
          report(
            new ValidationError(
              'snapshot',
              `stream '${streamId}' has no event at the snapshot's version ${snapshot.version} (was it deleted or reset?); ignoring the snapshot and reading the whole stream — delete the snapshot to stop this`,
            ),
            context,
          );
        }
      }
      for (;;) {
        const events = await store.readStream(streamId, { from: 1 });
        const last = events.at(-1);
        if (last !== undefined) return { snapshot: undefined, events, version: last.version };
        // A soft-deleted stream reads as empty but keeps its version, and that version is
        // what an append must expect: 0 would be refused by the store.
        const info = await store.streamInfo(streamId);
        if (!info.exists) return { snapshot: undefined, events, version: info.version };
        // Written to between the two reads: read it again, so no event goes unseen.
      }
    },

    async saveSnapshot(streamId, fromVersion, toVersion, state) {
      if (
        snapshots === undefined ||
        Math.floor(fromVersion / snapshots.every) >= Math.floor(toVersion / snapshots.every)
      ) {
        return;
      }
      try {
        await snapshots.store.save({
          streamId,
          version: toVersion,
          state: state(),
          schemaVersion,
          takenAt: new Date(),
        });
      } catch (error) {
        report(error, { streamId, operation: 'save', version: toVersion });
      }
    },
  };
}
