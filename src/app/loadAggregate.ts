import type { Decider, DomainEvent, EventStore } from '../core/index.js';

/** A stream folded with a decider's `evolve`. */
export interface LoadedAggregate<State> {
  state: State;
  /** Version of the last event folded (0 for an empty stream). */
  version: number;
  /** Global position of the last event folded (0 for an empty stream). */
  position: number;
  /** ISO time of the first and last event folded. */
  createdAt: string | undefined;
  updatedAt: string | undefined;
}

/**
 * Reads a stream and folds it into state — up to `atVersion` when given (time travel).
 *
 * @example
 * const { state, version } = await loadAggregate(store, 'user-42', userDecider);
 */
export async function loadAggregate<State, Event extends DomainEvent>(
  store: EventStore,
  streamId: string,
  decider: Pick<Decider<State, never, Event>, 'initialState' | 'evolve'>,
  atVersion?: number,
): Promise<LoadedAggregate<State>> {
  const events = await store.readStream(
    streamId,
    atVersion === undefined ? { from: 1 } : { from: 1, maxCount: atVersion },
  );
  let state = decider.initialState();
  let version = 0;
  let position = 0;
  let createdAt: string | undefined;
  let updatedAt: string | undefined;
  for (const event of events) {
    if (atVersion !== undefined && event.version > atVersion) break;
    state = decider.evolve(state, event as unknown as Event);
    version = event.version;
    position = event.position;
    createdAt ??= event.recordedAt.toISOString();
    updatedAt = event.recordedAt.toISOString();
  }
  return { state, version, position, createdAt, updatedAt };
}
