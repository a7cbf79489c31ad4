import { errorMessage, yieldToEventLoop } from './async.js';
import { ConfigurationError, EventloomError, ValidationError } from './errors.js';
import {
  checkFunction,
  checkInteger,
  checkKnownKeys,
  checkObject,
  checkPort,
  checkStoredName,
} from './optionChecks.js';
import type { Projection, ProjectionTarget } from './readModel.js';
import { checkRunOptions, MAX_SUBSCRIBE_BATCH_SIZE } from './subscriptionOptions.js';
import { UnitOfWork } from './unitOfWork.js';
import type {
  CheckpointStore,
  EventStore,
  RecordedEvent,
  SubscribeOptions,
  Subscription,
} from './types.js';
import { describe } from './validation.js';

export interface StartProjectionOptions extends Omit<
  SubscribeOptions,
  'name' | 'handler' | 'checkpoints' | 'eventTypes' | 'settleOn'
> {
  store: EventStore;
  projection: Projection;
  target: ProjectionTarget;
}

function validateProjection(projection: Projection): void {
  checkObject(projection, 'options.projection', '{ name, collections, handle, eventTypes? }', true);
  checkStoredName(
    projection.name,
    'options.projection.name',
    'its checkpoint and read model are kept under it',
  );
  const at = `options.projection(${projection.name})`;
  checkFunction((projection as { handle?: unknown }).handle, `${at}.handle`, '(event, docs)', true);
  if (
    !Array.isArray(projection.collections) ||
    !projection.collections.every((c) => typeof c === 'string' && c.length > 0)
  ) {
    throw new ValidationError(
      `${at}.collections`,
      `must list the collections the projection owns (a rebuild empties them); got ${describe(projection.collections)}`,
    );
  }
  const types: unknown = projection.eventTypes;
  if (
    types !== undefined &&
    (!Array.isArray(types) || !types.every((t) => typeof t === 'string' && t.length > 0))
  ) {
    throw new ValidationError(
      `${at}.eventTypes`,
      `must be an array of event type names (non-empty strings); got ${describe(types)}`,
    );
  }
}

const TARGET_METHODS = ['loadCheckpoint', 'commit', 'reset', 'findEntries'] as const;

function validatePorts(
  options: { store: unknown; target: unknown },
  storeMethods: readonly string[],
): void {
  checkPort(options.store, 'options.store', storeMethods);
  checkPort(options.target, 'options.target', TARGET_METHODS);
}

/**
 * What runs on each target, by projection name: a live projection and a rebuild of the same
 * projection would both write its read model and its checkpoint, and interleave.
 */
const running = new WeakMap<ProjectionTarget, Map<string, { mode: 'live' | 'rebuild' }>>();

/** Registers a run; the returned release is safe to call more than once. */
function claim(target: ProjectionTarget, projection: string, mode: 'live' | 'rebuild'): () => void {
  let names = running.get(target);
  if (names === undefined) {
    names = new Map();
    running.set(target, names);
  }
  const current = names.get(projection)?.mode;
  if (current !== undefined) {
    throw new ConfigurationError(
      current === 'live'
        ? `Projection '${projection}' is running live on this target; stop it (await running.stop()) before ${mode === 'rebuild' ? 'rebuilding it' : 'starting it again'}`
        : `Projection '${projection}' is being rebuilt on this target; wait for rebuildProjection() to finish before ${mode === 'rebuild' ? 'rebuilding it again' : 'starting it'}`,
      { details: { projection, running: current } },
    );
  }
  const token = { mode };
  names.set(projection, token);
  return () => {
    if (names.get(projection) === token) names.delete(projection);
  };
}

const START_PROJECTION_KEYS = [
  'store',
  'projection',
  'target',
  'from',
  'batchSize',
  'retry',
  'onPoison',
  'checkpointIntervalMs',
  'pollIntervalMs',
  'onEvent',
];

/**
 * Runs an async projection: a durable subscription whose read-model writes and checkpoint
 * commit together in the target, so redelivered events are never applied twice.
 *
 * @example
 * const running = startProjection({ store, projection: usersProjection, target });
 * await running.waitFor(lastPosition); // the read model now includes it
 */
export function startProjection(options: StartProjectionOptions): Subscription {
  checkObject(options, 'options', '{ store, projection, target, ... }', true);
  checkKnownKeys(options as unknown as Record<string, unknown>, 'options', START_PROJECTION_KEYS);
  validatePorts(options, ['subscribe']);
  validateProjection(options.projection);
  checkRunOptions(options as unknown as Record<string, unknown>, 'options');
  const { store, projection, target, ...rest } = options;
  const release = claim(target, projection.name, 'live');
  const uow = new UnitOfWork(target);
  const checkpoints: CheckpointStore = {
    load: (name) => target.loadCheckpoint(name),
    save: (name, position) => uow.commitTo(name, position),
    reset: (name) => target.reset(name, []),
    park: (entry) => store.checkpoints.park(entry),
    listParked: (name) => store.checkpoints.listParked(name),
    unpark: (name, id) => store.checkpoints.unpark(name, id),
  };
  let subscription: Subscription;
  try {
    subscription = store.subscribe({
      ...rest,
      name: projection.name,
      checkpoints,
      settleOn: 'checkpointed',
      // Filtered by the subscription before any wrapper's handler: a store that decrypts
      // personal data for handlers then skips the events this projection ignores.
      ...(projection.eventTypes !== undefined ? { eventTypes: projection.eventTypes } : {}),
      handler: async (event) => {
        if (projection.eventTypes && !projection.eventTypes.includes(event.type)) return;
        const mark = uow.mark();
        try {
          await projection.handle(event, uow);
        } catch (error) {
          uow.rollback(mark);
          throw error;
        }
      },
    });
  } catch (error) {
    release();
    throw error;
  }
  // Released by stop() itself, so a rebuild right after `await running.stop()` is allowed.
  const done = subscription.done.finally(release);
  done.catch(() => undefined);
  return {
    ...subscription,
    done,
    async stop() {
      await subscription.stop();
      release();
    },
  };
}

export interface RebuildProgress {
  projection: string;
  processed: number;
  position: number;
  /** Position the rebuild runs to (the head when it started). */
  target: number;
  /** 0..1 */
  ratio: number;
  eventsPerSec: number;
}

export interface RebuildOptions {
  store: EventStore;
  projection: Projection;
  target: ProjectionTarget;
  batchSize?: number;
  onProgress?: (progress: RebuildProgress) => void;
}

/**
 * Empties the projection's collections and replays every event up to the current head,
 * committing batch by batch with the checkpoint and reporting progress. A live
 * `startProjection` afterwards continues from where the rebuild ended.
 *
 * @example
 * await rebuildProjection({ store, projection, target, onProgress: (p) => console.log(p.ratio) });
 */
export function rebuildProjection(options: RebuildOptions): Promise<RebuildProgress> {
  checkObject(options, 'options', '{ store, projection, target, batchSize?, onProgress? }', true);
  checkKnownKeys(options as unknown as Record<string, unknown>, 'options', [
    'store',
    'projection',
    'target',
    'batchSize',
    'onProgress',
  ]);
  validatePorts(options, ['readAll', 'headPosition']);
  validateProjection(options.projection);
  checkInteger(options.batchSize, 'options.batchSize', 1, MAX_SUBSCRIBE_BATCH_SIZE);
  checkFunction(options.onProgress, 'options.onProgress', '(progress) => void');
  const release = claim(options.target, options.projection.name, 'rebuild');
  return rebuild(options).finally(release);
}

async function rebuild(options: RebuildOptions): Promise<RebuildProgress> {
  const { store, projection, target } = options;
  const batchSize = options.batchSize ?? 1000;
  const started = Date.now();
  await target.reset(projection.name, projection.collections);
  const head = await store.headPosition();
  const uow = new UnitOfWork(target);
  const progress: RebuildProgress = {
    projection: projection.name,
    processed: 0,
    position: 0,
    target: head,
    ratio: head === 0 ? 1 : 0,
    eventsPerSec: 0,
  };
  let from = 0;
  while (progress.position < head) {
    const batch: RecordedEvent[] = await store.readAll({ from, maxCount: batchSize });
    if (batch.length === 0) break;
    for (const event of batch) {
      if (event.position > head) break;
      if (!projection.eventTypes || projection.eventTypes.includes(event.type)) {
        try {
          await projection.handle(event, uow);
        } catch (error) {
          throw new EventloomError(
            'HANDLER_FAILED',
            `Rebuilding projection '${projection.name}' failed at event ${event.id} (${event.type}, position ${event.position}): ${errorMessage(error)}. Fix the handler and rebuild again; the read model holds everything before that event`,
            { cause: error, details: { projection: projection.name, position: event.position } },
          );
        }
      }
      progress.position = event.position;
      progress.processed++;
    }
    await uow.commitTo(projection.name, progress.position);
    from = progress.position + 1;
    const seconds = (Date.now() - started) / 1000;
    progress.ratio = head === 0 ? 1 : progress.position / head;
    progress.eventsPerSec =
      seconds > 0 ? Math.round(progress.processed / seconds) : progress.processed;
    options.onProgress?.({ ...progress });
    // Rebuilding from a local store would otherwise hold the event loop for the whole log.
    await yieldToEventLoop();
  }
  if (progress.processed === 0) await target.commit(projection.name, head, []);
  progress.ratio = 1;
  return progress;
}
