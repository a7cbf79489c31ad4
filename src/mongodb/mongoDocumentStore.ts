import type { AnyBulkWriteOperation, Collection, Db, Document as MongoDocument } from 'mongodb';
import { ValidationError } from '../core/errors.js';
import type {
  Document,
  DocumentFilter,
  DocumentStore,
  DocumentWrite,
  FindOptions,
  ProjectionTarget,
} from '../core/readModel.js';
import { assertJsonValue } from '../core/validation.js';
import type { CheckpointDoc } from './mongoSchema.js';

const FIELD = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Leaves room under MongoDB's 16 MB document limit for the staged writes of one commit. */
const MAX_STAGED_BYTES = 12 * 1024 * 1024;

export interface MongoProjectionTargetOptions {
  db: Db;
  /** Prefix of read-model collections (`<prefix>users`). Default none. */
  collectionPrefix?: string;
  /** Collection holding projection checkpoints. Default `eventloom_projections`. */
  checkpointCollection?: string;
  /** Resolved before every call (e.g. the event store's `ready`). */
  ready?: () => Promise<void>;
}

type ReadModelDoc = MongoDocument & { _id: string };

function checkFilter(filter: DocumentFilter | undefined): void {
  for (const key of Object.keys(filter ?? {})) {
    if (!FIELD.test(key))
      throw new ValidationError(
        'filter',
        `'${key}' is not a plain field name (letters, digits, _)`,
      );
  }
}

/**
 * Read models in MongoDB: one real collection per read-model collection (query them with
 * any MongoDB tool), documents keyed by `_id`.
 *
 * Without multi-document transactions a batch cannot commit atomically, so `commit` journals
 * first: it stores the batch's writes with the new position on the projection's checkpoint
 * document (one atomic write), then applies them (replace/delete by id — idempotent), then
 * moves the checkpoint. After a crash, `loadCheckpoint` finds the journal and finishes it,
 * so an event is never applied twice and never lost, and handlers never run twice for a
 * committed batch.
 *
 * @example
 * const target = createMongoProjectionTarget({ db: store.db });
 * startProjection({ store, projection: usersProjection, target });
 */
export function createMongoProjectionTarget(
  options: MongoProjectionTargetOptions,
): ProjectionTarget {
  const { db } = options;
  const prefix = options.collectionPrefix ?? '';
  const ready = options.ready ?? (() => Promise.resolve());
  const checkpoints = db.collection<CheckpointDoc>(
    options.checkpointCollection ?? 'eventloom_projections',
  );
  const coll = (name: string): Collection<ReadModelDoc> => {
    if (typeof name !== 'string' || name.length === 0 || name.includes('$')) {
      throw new ValidationError('collection', `'${String(name)}' is not a valid collection name`);
    }
    return db.collection<ReadModelDoc>(prefix + name);
  };
  const strip = (d: ReadModelDoc): { id: string; doc: Document } => {
    const { _id, ...doc } = d;
    return { id: _id, doc };
  };
  const toMongo = (id: string, doc: Document): ReadModelDoc => {
    assertJsonValue(doc, `documents[${id}]`, { allowDates: true });
    return { ...(JSON.parse(JSON.stringify(doc)) as Document), _id: id };
  };

  const find = async (collection: string, filter?: DocumentFilter, opts?: FindOptions) => {
    checkFilter(filter);
    let cursor = coll(collection).find(filter ?? {});
    if (opts?.sort) {
      if (!FIELD.test(opts.sort.field))
        throw new ValidationError(
          'options.sort.field',
          `'${opts.sort.field}' is not a plain field name`,
        );
      cursor = cursor.sort({ [opts.sort.field]: opts.sort.direction === 'desc' ? -1 : 1 });
    } else cursor = cursor.sort({ _id: 1 });
    if (opts?.limit !== undefined) cursor = cursor.limit(Math.max(0, Math.floor(opts.limit)));
    return (await cursor.toArray()).map(strip);
  };

  const apply = async (writes: readonly DocumentWrite[]): Promise<void> => {
    const byCollection = new Map<string, AnyBulkWriteOperation<ReadModelDoc>[]>();
    for (const w of writes) {
      const ops = byCollection.get(w.collection) ?? [];
      byCollection.set(w.collection, ops);
      ops.push(
        w.op === 'put'
          ? {
              replaceOne: {
                filter: { _id: w.id },
                replacement: toMongo(w.id, w.doc),
                upsert: true,
              },
            }
          : { deleteOne: { filter: { _id: w.id } } },
      );
    }
    // Ordered within a collection: two writes to one document keep their order.
    await Promise.all(
      [...byCollection].map(([name, ops]) => coll(name).bulkWrite(ops, { ordered: true })),
    );
  };

  const finish = async (projection: string, position: number): Promise<void> => {
    await checkpoints.updateOne(
      { _id: projection },
      { $set: { position, updatedAt: new Date() }, $unset: { pending: '' } },
      { upsert: true },
    );
  };

  const documents: DocumentStore = {
    async get<T extends Document>(collection: string, id: string): Promise<T | undefined> {
      await ready();
      const d = await coll(collection).findOne({ _id: id });
      return d ? (strip(d).doc as T) : undefined;
    },
    async find<T extends Document>(
      collection: string,
      filter?: DocumentFilter,
      opts?: FindOptions,
    ): Promise<T[]> {
      await ready();
      return (await find(collection, filter, opts)).map((e) => e.doc as T);
    },
    async put(collection, id, doc) {
      await ready();
      await coll(collection).replaceOne({ _id: id }, toMongo(id, doc), { upsert: true });
    },
    async delete(collection, id) {
      await ready();
      await coll(collection).deleteOne({ _id: id });
    },
  };

  return {
    documents,
    async findEntries(collection, filter, opts) {
      await ready();
      return find(collection, filter, opts);
    },
    async loadCheckpoint(projection) {
      await ready();
      const doc = await checkpoints.findOne({ _id: projection });
      if (doc?.pending) {
        // A commit was interrupted after journaling: finish it instead of re-running handlers.
        await apply(doc.pending.writes as DocumentWrite[]);
        await finish(projection, doc.pending.position);
        return doc.pending.position;
      }
      return doc?.position;
    },
    async commit(projection, position, writes) {
      await ready();
      if (writes.length === 0) return finish(projection, position);
      const staged = JSON.parse(JSON.stringify(writes)) as unknown[];
      const bytes = JSON.stringify(staged).length;
      if (bytes > MAX_STAGED_BYTES) {
        throw new ValidationError(
          `projections.${projection}`,
          `one commit would stage ${bytes} bytes of read-model writes, more than MongoDB can journal in one document; lower the projection's batchSize or checkpointIntervalMs`,
        );
      }
      await checkpoints.updateOne(
        { _id: projection },
        {
          $set: { pending: { position, writes: staged }, updatedAt: new Date() },
          $setOnInsert: { position: 0 },
        },
        { upsert: true },
      );
      await apply(writes);
      await finish(projection, position);
    },
    async reset(projection, collections) {
      await ready();
      for (const name of collections) await coll(name).deleteMany({});
      await checkpoints.deleteOne({ _id: projection });
    },
  };
}
