import type { Decider, DomainEvent, EventStore } from '../core/index.js';
import { loadAggregate } from './loadAggregate.js';
import { orderDecider } from './orderDecider.js';
import { productDecider } from './productDecider.js';
import { type AppCategory, categoryOf, isAppCategory } from './streamNames.js';
import { tweetDecider } from './tweetDecider.js';
import { uniqueValueDecider } from './uniqueValueDecider.js';
import { publicUserState, userDecider } from './userDecider.js';

/** A stream's aggregate state at one version (time travel for the event explorer). */
export interface AggregateStateAt {
  streamId: string;
  aggregate: AppCategory;
  /** The version the state includes (0 before the first event). */
  version: number;
  /** The stream's current version. */
  currentVersion: number;
  state: unknown;
}

type Folder = (
  store: EventStore,
  streamId: string,
  atVersion?: number,
) => Promise<{ state: unknown; version: number }>;

const fold =
  <S, E extends DomainEvent>(
    decider: Pick<Decider<S, never, E>, 'initialState' | 'evolve'>,
    view: (state: S) => unknown = (state) => state,
  ): Folder =>
  async (store, streamId, atVersion) => {
    const loaded = await loadAggregate(store, streamId, decider, atVersion);
    return { state: view(loaded.state), version: loaded.version };
  };

const FOLDERS: Record<AppCategory, Folder> = {
  user: fold(userDecider, publicUserState),
  tweet: fold(tweetDecider),
  product: fold(productDecider),
  order: fold(orderDecider),
  username: fold(uniqueValueDecider),
  email: fold(uniqueValueDecider),
};

/**
 * Folds an app stream up to `version` (default: all of it) with its aggregate's decider.
 * Undefined when the stream's category is not one of the app's aggregates.
 *
 * @example
 * await aggregateStateAt(store, 'order-42', 1); // the order right after OrderPlaced
 */
export async function aggregateStateAt(
  store: EventStore,
  streamId: string,
  version?: number,
): Promise<AggregateStateAt | undefined> {
  const category = categoryOf(streamId);
  if (!isAppCategory(category)) return undefined;
  const [{ state, version: at }, info] = await Promise.all([
    FOLDERS[category](store, streamId, version),
    store.streamInfo(streamId),
  ]);
  return { streamId, aggregate: category, version: at, currentVersion: info.version, state };
}
