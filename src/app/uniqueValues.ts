import { createCommandHandler, type EventStore } from '../core/index.js';
import { loadAggregate } from './loadAggregate.js';
import { rejectionOf, type RejectionReason } from './rejection.js';
import { uniqueValueDecider } from './uniqueValueDecider.js';

export interface UniqueValuesOptions {
  store: EventStore;
  /** Stream category of the claims, e.g. `username` (streams `username-<key>`). */
  category: string;
  /** The value's key in the stream id: normalized (e.g. lower case) and free of secrets. */
  keyOf: (value: string) => string;
  takenReason: RejectionReason;
  /** The request field a conflict is reported on. */
  field: string;
  /** Whether the owner of a claim completed what it claimed the value for. */
  isOwnerActive: (ownerId: string) => Promise<boolean>;
  /** A claim older than this whose owner is not active is taken over. Default 30 s. */
  staleAfterMs?: number;
  now?: () => number;
}

export interface UniqueValues {
  /** Claims `value` for `ownerId`; throws a rejection with `takenReason` when another owner has it. */
  claim(value: string, ownerId: string): Promise<void>;
  /** Releases `value` if `ownerId` holds it (else does nothing). */
  release(value: string, ownerId: string): Promise<void>;
  ownerOf(value: string): Promise<string | undefined>;
  streamIdOf(value: string): string;
}

/**
 * Race-free unique values on the event store alone (no unique index needed): one stream per
 * value. A process that dies between claiming a value and using it leaves a claim that is
 * taken over once it is `staleAfterMs` old and its owner never became active.
 */
export function createUniqueValues(options: UniqueValuesOptions): UniqueValues {
  const { store, category, keyOf, takenReason, field, isOwnerActive } = options;
  const staleAfterMs = options.staleAfterMs ?? 30_000;
  const now = options.now ?? Date.now;
  const handle = createCommandHandler({ store, decider: uniqueValueDecider });
  const streamIdOf = (value: string): string => `${category}-${keyOf(value)}`;

  async function staleOwner(streamId: string): Promise<string | undefined> {
    const [last] = await store.readStream(streamId, { direction: 'backwards', maxCount: 1 });
    if (last === undefined || last.type !== 'UniqueValueClaimed') return undefined;
    if (now() - last.recordedAt.getTime() < staleAfterMs) return undefined;
    const owner = (last.data as { ownerId: string }).ownerId;
    return (await isOwnerActive(owner)) ? undefined : owner;
  }

  return {
    streamIdOf,
    async claim(value, ownerId) {
      const streamId = streamIdOf(value);
      const command = { type: 'Claim' as const, ownerId, takenReason, field };
      try {
        await handle(streamId, command);
      } catch (error) {
        if (rejectionOf(error)?.reason !== takenReason) throw error;
        const stale = await staleOwner(streamId);
        if (stale === undefined) throw error;
        await handle(streamId, { ...command, replacing: stale });
      }
    },
    async release(value, ownerId) {
      await handle(streamIdOf(value), { type: 'Release', ownerId });
    },
    async ownerOf(value) {
      const { state } = await loadAggregate(store, streamIdOf(value), uniqueValueDecider);
      return state.ownerId ?? undefined;
    },
  };
}
