import { errorMessage } from './async.js';
import { EventloomError, ValidationError } from './errors.js';
import type { Projection, ProjectionTarget } from './readModel.js';
import { UnitOfWork } from './unitOfWork.js';
import type {
  CheckpointStore,
  EventStore,
  RecordedEvent,
  SubscribeOptions,
  Subscription,
} from './types.js';

export interface StartProjectionOptions extends Omit<
  SubscribeOptions,
  'name' | 'handler' | 'checkpoints' | 'eventTypes' | 'settleOn'
> {
  store: EventStore;
  projection: Projection;
  target: ProjectionTarget;
}

function validateProjection(projection: Projection): void {
  if (typeof projection?.name !== 'string' || projection.name.length === 0) {
    throw new ValidationError('projection.name', 'must be a non-empty string');
  }
  if (typeof projection.handle !== 'function') {
    throw new ValidationError(
      `projection.${projection.name}.handle`,
      'must be a function (event, docs)',
    );
  }
  if (!Array.isArray(projection.collections)) {
    throw new ValidationError(
      `projection.${projection.name}.collections`,
      'must list the collections the projection owns (a rebuild empties them)',
    );
  }
}

/**
 * Runs an async projection: a durable subscription whose read-model writes and checkpoint
 * commit together in the target, so redelivered events are never applied twice.
 *
 * @example
 * const running = startProjection({ store, projection: usersProjection, target });
 * await running.waitFor(lastPosition); // the read model now includes it
 */
export function startProjection(options: StartProjectionOptions): Subscription {
  const { store, projection, target, ...rest } = options;
  validateProjection(projection);
  const uow = new UnitOfWork(target);
  const checkpoints: CheckpointStore = {
    load: (name) => target.loadCheckpoint(name),
    save: (name, position) => uow.commitTo(name, position),
    reset: (name) => target.reset(name, []),
    park: (entry) => store.checkpoints.park(entry),
    listParked: (name) => store.checkpoints.listParked(name),
    unpark: (name, id) => store.checkpoints.unpark(name, id),
  };
  return store.subscribe({
    ...rest,
    name: projection.name,
    checkpoints,
    settleOn: 'checkpointed',
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
export async function rebuildProjection(options: RebuildOptions): Promise<RebuildProgress> {
  const { store, projection, target } = options;
  validateProjection(projection);
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
  }
  if (progress.processed === 0) await target.commit(projection.name, head, []);
  progress.ratio = 1;
  return progress;
}
