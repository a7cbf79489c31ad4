import type { AnyBulkWriteOperation, Collection, Db, Document as MongoDocument } from 'mongodb';
import { ValidationError } from '../core/errors.js';
import {
  checkFieldName,
  type Document,
  type DocumentClaim,
  type DocumentFilter,
  type DocumentStore,
  type DocumentWrite,
  type FindOptions,
  type ProjectionTarget,
} from '../core/readModel.js';
import { translatingErrors } from '../core/portErrors.js';
import { assertJsonValue } from '../core/validation.js';
import { hostsOf, isDuplicateKey, translateMongoError } from './mongoErrors.js';
import type { CheckpointDoc } from './mongoSchema.js';

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

/** Hidden fields of claim-committed documents (see `commitClaim`); never returned by reads. */
const CLAIMED_BY = '_eventloomClaim';
const DELETED = '_eventloomDeleted';
const PENDING = '_eventloomPending';
/** Reads skip tombstones and claims whose writes are not applied yet (not committed). */
const VISIBLE = { [DELETED]: { $exists: false }, [PENDING]: { $exists: false } };

/** One document's net change by a claim, with the claim that last wrote it when staged. */
interface ClaimedWrite {
  op: 'put' | 'delete';
  collection: string;
  id: string;
  doc?: Document;
  /** `null`: the document had no claim (absent, or written without one). */
  expected: string | null;
}

function checkFilter(filter: DocumentFilter | undefined): void {
  for (const key of Object.keys(filter ?? {})) checkFieldName(key, 'filter');
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
  const hosts = hostsOf(options.db);
  const translate = (error: unknown, context: string): unknown =>
    translateMongoError(error, context, hosts);
  const target = projectionTarget(options);
  return {
    ...translatingErrors(target, 'MongoDB projection target', translate),
    documents: translatingErrors(target.documents, 'MongoDB read-model documents', translate),
  };
}

function projectionTarget(options: MongoProjectionTargetOptions): ProjectionTarget {
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
    const { _id, [CLAIMED_BY]: _by, [DELETED]: _deleted, [PENDING]: _pending, ...doc } = d;
    return { id: _id, doc };
  };
  const toMongo = (id: string, doc: Document): ReadModelDoc => {
    assertJsonValue(doc, `documents[${id}]`, { allowDates: true });
    return { ...(JSON.parse(JSON.stringify(doc)) as Document), _id: id };
  };

  const checkWrites = (writes: readonly DocumentWrite[]): void => {
    for (const w of writes) {
      if (w.op === 'put')
        assertJsonValue(w.doc, `documents.${w.collection}[${w.id}]`, { allowDates: true });
    }
  };

  const find = async (collection: string, filter?: DocumentFilter, opts?: FindOptions) => {
    checkFilter(filter);
    let cursor = coll(collection).find({ ...filter, ...VISIBLE });
    if (opts?.sort) {
      checkFieldName(opts.sort.field, 'options.sort.field');
      cursor = cursor.sort({ [opts.sort.field]: opts.sort.direction === 'desc' ? -1 : 1 });
    } else cursor = cursor.sort({ _id: 1 });
    if (opts?.limit !== undefined) {
      const limit = Math.max(0, Math.floor(opts.limit));
      // MongoDB reads a limit of 0 as "no limit"; the port means "nothing".
      if (limit === 0) return [];
      cursor = cursor.limit(limit);
    }
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

  // ---- claims: each-once commits without multi-document transactions ---------------------
  //
  // The claim document is the journal: one insert (atomic, unique `_id`) both decides who
  // commits and stores the writes with, per document, the claim that wrote it last
  // (`expected`). Then the writes are applied, each one conditional on the document still
  // carrying `expected` and stamping it with this claim; deletes leave a tombstone so the
  // stamp survives. Last the journal is removed from the claim document.
  //
  // A second delivery of the same event finds the claim: if its journal is still there (the
  // first writer crashed or is frozen), it applies the journal itself, so the read model is
  // complete before it moves on to later events. When the frozen writer resumes, each of its
  // writes finds a newer stamp (this claim's, or a later event's) and changes nothing, so a
  // late writer can neither apply twice nor overwrite newer work. Until the journal is applied
  // the claim is invisible to reads, like an uncommitted transaction.
  const applyClaimed = async (claimId: string, writes: readonly ClaimedWrite[]): Promise<void> => {
    for (const w of writes) {
      const filter = { _id: w.id, [CLAIMED_BY]: w.expected ?? { $exists: false } };
      const replacement: ReadModelDoc =
        w.op === 'put'
          ? { ...toMongo(w.id, w.doc ?? {}), [CLAIMED_BY]: claimId }
          : { _id: w.id, [CLAIMED_BY]: claimId, [DELETED]: true };
      try {
        await coll(w.collection).replaceOne(filter, replacement, {
          upsert: w.op === 'put' && w.expected === null,
        });
      } catch (error) {
        // The upsert met a document stamped by another claim since: that claim is newer.
        if (!isDuplicateKey(error)) throw error;
      }
    }
  };
  const finishClaim = async (claim: DocumentClaim, journal: ClaimedWrite[]): Promise<void> => {
    await applyClaimed(claim.id, journal);
    await coll(claim.collection).updateOne(
      { _id: claim.id, [PENDING]: { $exists: true } },
      { $unset: { [PENDING]: '' } },
    );
  };
  const stage = async (writes: readonly DocumentWrite[]): Promise<ClaimedWrite[]> => {
    // Only a document's last write matters; one conditional write per document.
    const last = new Map<string, DocumentWrite>();
    for (const w of writes) last.set(JSON.stringify([w.collection, w.id]), w);
    const out: ClaimedWrite[] = [];
    for (const w of last.values()) {
      const current = await coll(w.collection).findOne(
        { _id: w.id },
        { projection: { [CLAIMED_BY]: 1 } },
      );
      const by: unknown = current?.[CLAIMED_BY];
      out.push({
        op: w.op,
        collection: w.collection,
        id: w.id,
        ...(w.op === 'put' ? { doc: structuredClone(w.doc) } : {}),
        expected: typeof by === 'string' ? by : null,
      });
    }
    return out;
  };

  const documents: DocumentStore = {
    async get<T extends Document>(collection: string, id: string): Promise<T | undefined> {
      await ready();
      const d = await coll(collection).findOne({ _id: id, ...VISIBLE });
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
      // Checked before journaling: a journaled batch is applied by the next loadCheckpoint.
      checkWrites(writes);
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
    async commitClaim(claim, writes) {
      await ready();
      checkWrites(writes);
      const journal = await stage(writes);
      const bytes = JSON.stringify(journal).length;
      if (bytes > MAX_STAGED_BYTES) {
        throw new ValidationError(
          `documents.${claim.collection}[${claim.id}]`,
          `one change would journal ${bytes} bytes of read-model writes, more than MongoDB can hold in one document; split the change`,
        );
      }
      try {
        await coll(claim.collection).insertOne({
          ...toMongo(claim.id, claim.doc),
          [PENDING]: journal,
        });
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        const existing = await coll(claim.collection).findOne({ _id: claim.id });
        const pending = existing?.[PENDING] as ClaimedWrite[] | undefined;
        // The first writer stopped (or paused) half-way: complete its change before going on.
        if (pending) await finishClaim(claim, pending);
        return false;
      }
      await finishClaim(claim, journal);
      return true;
    },
    async reset(projection, collections) {
      await ready();
      for (const name of collections) await coll(name).deleteMany({});
      await checkpoints.deleteOne({ _id: projection });
    },
  };
}
