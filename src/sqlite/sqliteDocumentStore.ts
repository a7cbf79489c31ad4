import type { Database, Statement } from 'better-sqlite3';
import {
  checkFieldName as checkField,
  type Document,
  type DocumentClaim,
  type DocumentFilter,
  type DocumentStore,
  type DocumentWrite,
  type FindOptions,
  type ProjectionTarget,
  type SyncDocumentStore,
} from '../core/readModel.js';
import { translatingErrors } from '../core/portErrors.js';
import { assertJsonValue } from '../core/validation.js';
import { translateSqliteError } from './sqliteErrors.js';
import { ensureSchema } from './sqliteSchema.js';

/** Runs a synchronous driver call as a promise, turning a throw into a rejection. */
function defer<T>(fn: () => T): Promise<T> {
  return new Promise<T>((resolve) => resolve(fn()));
}

export interface SqliteDocuments extends SyncDocumentStore {
  findEntries(
    collection: string,
    filter?: DocumentFilter,
    options?: FindOptions,
  ): { id: string; doc: Document }[];
  /** The async, portable view of the same documents. */
  readonly async: DocumentStore;
  /** Writes and a projection checkpoint in one transaction. */
  commit(projection: string, position: number, writes: readonly DocumentWrite[]): void;
  /** Creates the claim and applies the writes in one transaction, unless the claim exists. */
  commitClaim(claim: DocumentClaim, writes: readonly DocumentWrite[]): boolean;
}

/**
 * Read-model documents in the `eventloom_documents` table: JSON per (collection, id).
 * Shares the event store's database so inline projections commit with the events.
 */
export function createSqliteDocuments(db: Database): SqliteDocuments {
  try {
    return sqliteDocuments(db);
  } catch (error) {
    throw translateSqliteError(error, 'Opening the SQLite read-model documents', db.name);
  }
}

const translator =
  (db: Database) =>
  (error: unknown, context: string): unknown =>
    translateSqliteError(error, context, db.name);

function sqliteDocuments(db: Database): SqliteDocuments {
  ensureSchema(db);
  const getStmt = db
    .prepare('SELECT doc FROM eventloom_documents WHERE collection = ? AND id = ?')
    .pluck();
  const putStmt = db.prepare(
    'INSERT INTO eventloom_documents (collection, id, doc) VALUES (?, ?, ?) ON CONFLICT (collection, id) DO UPDATE SET doc = excluded.doc',
  );
  const delStmt = db.prepare('DELETE FROM eventloom_documents WHERE collection = ? AND id = ?');
  const checkpointStmt = db.prepare(
    'INSERT INTO eventloom_checkpoints (name, position, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at',
  );
  const claimStmt = db.prepare(
    'INSERT INTO eventloom_documents (collection, id, doc) VALUES (?, ?, ?) ON CONFLICT (collection, id) DO NOTHING',
  );
  const findCache = new Map<string, Statement>();

  const put = (collection: string, id: string, doc: Document): void => {
    assertJsonValue(doc, `documents.${collection}[${id}]`, { allowDates: true });
    putStmt.run(collection, id, JSON.stringify(doc));
  };
  const apply = (w: DocumentWrite): void => {
    if (w.op === 'put') put(w.collection, w.id, w.doc);
    else delStmt.run(w.collection, w.id);
  };

  const sync: SyncDocumentStore = {
    get<T extends Document>(collection: string, id: string): T | undefined {
      const raw = getStmt.get(collection, id) as string | undefined;
      return raw === undefined ? undefined : (JSON.parse(raw) as T);
    },
    find<T extends Document>(
      collection: string,
      filter?: DocumentFilter,
      options?: FindOptions,
    ): T[] {
      return findEntries(collection, filter, options).map((e) => e.doc as T);
    },
    put,
    delete(collection: string, id: string): void {
      delStmt.run(collection, id);
    },
  };

  function findEntries(
    collection: string,
    filter?: DocumentFilter,
    options?: FindOptions,
  ): { id: string; doc: Document }[] {
    const keys = Object.keys(filter ?? {}).map((k) => checkField(k, 'filter'));
    const sort = options?.sort;
    const sql =
      'SELECT id, doc FROM eventloom_documents WHERE collection = ?' +
      keys.map((k) => ` AND json_extract(doc, '$.${k}') IS ?`).join('') +
      (sort
        ? ` ORDER BY json_extract(doc, '$.${checkField(sort.field, 'options.sort.field')}') ${
            sort.direction === 'desc' ? 'DESC' : 'ASC'
          }`
        : ' ORDER BY id') +
      (options?.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(options.limit))}` : '');
    let stmt = findCache.get(sql);
    if (!stmt) {
      stmt = db.prepare(sql);
      findCache.set(sql, stmt);
    }
    const params = keys.map((k) => {
      const v = (filter as DocumentFilter)[k];
      return typeof v === 'boolean' ? (v ? 1 : 0) : v;
    });
    return (stmt.all(collection, ...params) as { id: string; doc: string }[]).map((r) => ({
      id: r.id,
      doc: JSON.parse(r.doc) as Document,
    }));
  }

  const commitTx = db.transaction(
    (projection: string, position: number, writes: readonly DocumentWrite[]) => {
      for (const w of writes) apply(w);
      checkpointStmt.run(projection, position, Date.now());
    },
  );

  // The claim row goes in first: when it exists already the transaction wrote nothing.
  const claimTx = db.transaction((claim: DocumentClaim, writes: readonly DocumentWrite[]) => {
    assertJsonValue(claim.doc, `documents.${claim.collection}[${claim.id}]`);
    if (claimStmt.run(claim.collection, claim.id, JSON.stringify(claim.doc)).changes === 0) {
      return false;
    }
    for (const w of writes) apply(w);
    return true;
  });

  // The synchronous API translates too: a caller outside a transaction must not see a raw
  // driver error (inside the event store's append the store translates again, a no-op).
  const guard = <F extends (...args: never[]) => unknown>(name: string, fn: F): F =>
    ((...args: Parameters<F>) => {
      try {
        return fn(...args);
      } catch (error) {
        throw translateSqliteError(error, `SQLite read-model documents: ${name}`, db.name);
      }
    }) as F;
  return {
    get: guard('get', sync.get.bind(sync)),
    find: guard('find', sync.find.bind(sync)),
    put: guard('put', sync.put.bind(sync)),
    delete: guard('delete', sync.delete.bind(sync)),
    findEntries: guard('findEntries', findEntries),
    commit: guard(
      'commit',
      (projection: string, position: number, writes: readonly DocumentWrite[]) =>
        commitTx.immediate(projection, position, writes),
    ),
    commitClaim: guard('commitClaim', (claim: DocumentClaim, writes: readonly DocumentWrite[]) =>
      claimTx.immediate(claim, writes),
    ),
    async: translatingErrors<DocumentStore>(
      {
        get: <T extends Document>(collection: string, id: string): Promise<T | undefined> =>
          defer(() => sync.get<T>(collection, id)),
        find: <T extends Document>(
          collection: string,
          filter?: DocumentFilter,
          options?: FindOptions,
        ): Promise<T[]> => defer(() => sync.find<T>(collection, filter, options)),
        put: (collection, id, doc) => Promise.resolve().then(() => sync.put(collection, id, doc)),
        delete: (collection, id) => Promise.resolve().then(() => sync.delete(collection, id)),
      },
      'SQLite read-model documents',
      translator(db),
    ),
  };
}

/**
 * A projection target on SQLite: read-model documents and the projection's checkpoint
 * commit in one transaction, so a crash or redelivery never double-applies an event.
 *
 * @example
 * const target = createSqliteProjectionTarget(store.database);
 * startProjection({ store, projection: usersProjection, target });
 */
export function createSqliteProjectionTarget(db: Database): ProjectionTarget {
  try {
    return translatingErrors(projectionTarget(db), 'SQLite projection target', translator(db));
  } catch (error) {
    throw translateSqliteError(error, 'Opening the SQLite projection target', db.name);
  }
}

function projectionTarget(db: Database): ProjectionTarget {
  const docs = createSqliteDocuments(db);
  const loadStmt = db.prepare('SELECT position FROM eventloom_checkpoints WHERE name = ?').pluck();
  const resetTx = db.transaction((projection: string, collections: readonly string[]) => {
    const del = db.prepare('DELETE FROM eventloom_documents WHERE collection = ?');
    for (const c of collections) del.run(c);
    db.prepare('DELETE FROM eventloom_checkpoints WHERE name = ?').run(projection);
  });
  return {
    documents: docs.async,
    findEntries: (collection, filter, options) =>
      defer(() => docs.findEntries(collection, filter, options)),
    loadCheckpoint: (projection) => defer(() => loadStmt.get(projection) as number | undefined),
    commit: (projection, position, writes) =>
      defer(() => docs.commit(projection, position, writes)),
    commitClaim: (claim, writes) => defer(() => docs.commitClaim(claim, writes)),
    reset: (projection, collections) => defer(() => resetTx.immediate(projection, collections)),
  };
}
