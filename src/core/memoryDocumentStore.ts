import {
  type Document,
  type DocumentFilter,
  type DocumentStore,
  type DocumentWrite,
  type FindOptions,
  matchDocuments,
  type ProjectionTarget,
  type SyncDocumentStore,
} from './readModel.js';
import { assertJsonValue } from './validation.js';

export interface MemoryDocuments extends SyncDocumentStore {
  /** The async, portable view of the same documents. */
  readonly async: DocumentStore;
  /** A projection target over these documents. */
  readonly target: ProjectionTarget;
  /** Writes staged in a copy, applied only by `commit()` (for inline projections). */
  stage(): SyncDocumentStore & { commit(): void };
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/**
 * Read-model documents in memory, for tests and the in-memory store's projections.
 *
 * @example
 * const docs = createMemoryDocuments();
 * startProjection({ store, projection, target: docs.target });
 */
export function createMemoryDocuments(): MemoryDocuments {
  const collections = new Map<string, Map<string, Document>>();
  const checkpoints = new Map<string, number>();
  const coll = (name: string): Map<string, Document> => {
    let c = collections.get(name);
    if (!c) {
      c = new Map<string, Document>();
      collections.set(name, c);
    }
    return c;
  };
  const entries = (
    collection: string,
    filter?: DocumentFilter,
    options?: FindOptions,
  ): { id: string; doc: Document }[] => {
    // Id order, like the durable targets when no sort is given.
    const all = [...coll(collection)]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([id, doc]) => ({ id, doc: clone(doc) }));
    const byDoc = new Map(all.map((e) => [e.doc, e.id]));
    return matchDocuments(
      all.map((e) => e.doc),
      filter,
      options,
    ).map((doc) => ({ id: byDoc.get(doc) as string, doc }));
  };
  const apply = (w: DocumentWrite): void => {
    if (w.op === 'put') coll(w.collection).set(w.id, clone(w.doc));
    else coll(w.collection).delete(w.id);
  };
  const checkWrites = (writes: readonly DocumentWrite[]): void => {
    for (const w of writes) {
      if (w.op === 'put')
        assertJsonValue(w.doc, `documents.${w.collection}[${w.id}]`, { allowDates: true });
    }
  };
  const sync: SyncDocumentStore = {
    get: <T extends Document>(collection: string, id: string) => {
      const d = coll(collection).get(id);
      return d === undefined ? undefined : (clone(d) as T);
    },
    find: <T extends Document>(
      collection: string,
      filter?: DocumentFilter,
      options?: FindOptions,
    ) => entries(collection, filter, options).map((e) => e.doc as T),
    put(collection, id, doc) {
      assertJsonValue(doc, `documents.${collection}[${id}]`, { allowDates: true });
      coll(collection).set(id, clone(doc));
    },
    delete(collection, id) {
      coll(collection).delete(id);
    },
  };
  const defer = <T>(fn: () => T): Promise<T> => new Promise<T>((resolve) => resolve(fn()));
  const asyncDocs: DocumentStore = {
    get: <T extends Document>(c: string, id: string) => defer(() => sync.get<T>(c, id)),
    find: <T extends Document>(c: string, f?: DocumentFilter, o?: FindOptions) =>
      defer(() => sync.find<T>(c, f, o)),
    put: (c, id, doc) => defer(() => sync.put(c, id, doc)),
    delete: (c, id) => defer(() => sync.delete(c, id)),
  };
  return {
    ...sync,
    async: asyncDocs,
    target: {
      documents: asyncDocs,
      findEntries: (c, f, o) => defer(() => entries(c, f, o)),
      loadCheckpoint: (p) => defer(() => checkpoints.get(p)),
      commit: (p, position, writes) =>
        defer(() => {
          checkWrites(writes);
          writes.forEach(apply);
          checkpoints.set(p, position);
        }),
      // Synchronous from check to last write: nothing can interleave.
      commitClaim: (claim, writes) =>
        defer(() => {
          if (coll(claim.collection).has(claim.id)) return false;
          checkWrites(writes);
          assertJsonValue(claim.doc, `documents.${claim.collection}[${claim.id}]`);
          writes.forEach(apply);
          apply({ op: 'put', ...claim });
          return true;
        }),
      reset: (p, names) =>
        defer(() => {
          for (const n of names) collections.delete(n);
          checkpoints.delete(p);
        }),
    },
    stage() {
      const writes: DocumentWrite[] = [];
      const overlay = new Map<string, Document | null>();
      const key = (c: string, id: string): string => `${c}\u0000${id}`;
      return {
        get: <T extends Document>(c: string, id: string) => {
          const k = key(c, id);
          if (overlay.has(k)) {
            const d = overlay.get(k);
            return d === null || d === undefined ? undefined : (clone(d) as T);
          }
          return sync.get<T>(c, id);
        },
        find: <T extends Document>(c: string, f?: DocumentFilter, o?: FindOptions) => {
          const merged = new Map(entries(c).map((e) => [e.id, e.doc]));
          for (const [k, d] of overlay) {
            const [oc, id] = k.split('\u0000') as [string, string];
            if (oc !== c) continue;
            if (d === null) merged.delete(id);
            else merged.set(id, clone(d));
          }
          return matchDocuments([...merged.values()], f, o) as T[];
        },
        put(c, id, doc) {
          assertJsonValue(doc, `documents.${c}[${id}]`, { allowDates: true });
          overlay.set(key(c, id), clone(doc));
          writes.push({ op: 'put', collection: c, id, doc: clone(doc) });
        },
        delete(c, id) {
          overlay.set(key(c, id), null);
          writes.push({ op: 'delete', collection: c, id });
        },
        commit: () => writes.forEach(apply),
      };
    },
  };
}
