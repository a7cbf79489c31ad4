import { errorMessage } from './async.js';
import { EventloomError, ValidationError } from './errors.js';
import {
  type Document,
  type DocumentFilter,
  type DocumentStore,
  type DocumentWrite,
  type FindOptions,
  matchDocuments,
  type Projection,
  type ProjectionTarget,
} from './readModel.js';
import type {
  CheckpointStore,
  EventStore,
  RecordedEvent,
  SubscribeOptions,
  Subscription,
} from './types.js';

/**
 * Collects a batch's writes so they commit together with the checkpoint. Reads see the
 * batch's own pending writes over the committed state.
 */
class UnitOfWork implements DocumentStore {
  #writes: DocumentWrite[] = [];
  readonly #target: ProjectionTarget;

  constructor(target: ProjectionTarget) {
    this.#target = target;
  }

  get size(): number {
    return this.#writes.length;
  }
  mark(): number {
    return this.#writes.length;
  }
  rollback(mark: number): void {
    this.#writes.length = mark;
  }
  /** Commits the pending writes with `position`; they are kept if the commit fails. */
  async commitTo(projection: string, position: number): Promise<void> {
    const writes = this.#writes.slice();
    await this.#target.commit(projection, position, writes);
    this.#writes.splice(0, writes.length);
  }

  #pending(collection: string, id: string): DocumentWrite | undefined {
    for (let i = this.#writes.length - 1; i >= 0; i--) {
      const w = this.#writes[i] as DocumentWrite;
      if (w.collection === collection && w.id === id) return w;
    }
    return undefined;
  }

  async get<T extends Document = Document>(collection: string, id: string): Promise<T | undefined> {
    const w = this.#pending(collection, id);
    if (w) return w.op === 'put' ? (structuredClone(w.doc) as T) : undefined;
    return this.#target.documents.get<T>(collection, id);
  }

  async find<T extends Document = Document>(
    collection: string,
    filter?: DocumentFilter,
    options?: FindOptions,
  ): Promise<T[]> {
    const touched = this.#writes.some((w) => w.collection === collection);
    if (!touched) return this.#target.documents.find<T>(collection, filter, options);
    const merged = new Map(
      (await this.#target.findEntries(collection, filter)).map((e) => [e.id, e.doc] as const),
    );
    for (const w of this.#writes) {
      if (w.collection !== collection) continue;
      if (w.op === 'delete') merged.delete(w.id);
      else merged.set(w.id, structuredClone(w.doc));
    }
    return matchDocuments([...merged.values()], filter, options) as T[];
  }

  put(collection: string, id: string, doc: Document): Promise<void> {
    this.#writes.push({ op: 'put', collection, id, doc: structuredClone(doc) });
    return Promise.resolve();
  }

  delete(collection: string, id: string): Promise<void> {
    this.#writes.push({ op: 'delete', collection, id });
    return Promise.resolve();
  }
}

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
