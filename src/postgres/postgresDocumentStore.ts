import { escapeIdentifier, escapeLiteral, Pool, type PoolClient, type PoolConfig } from 'pg';
import {
  type Document,
  type DocumentFilter,
  type DocumentStore,
  type DocumentWrite,
  type FindOptions,
  type ProjectionTarget,
  StoreClosedError,
  ValidationError,
} from '../core/index.js';
import { checkFieldName as checkField } from '../core/readModel.js';
import { assertJsonValue } from '../core/validation.js';
import { translatePostgresError } from './postgresErrors.js';
import { ensureSchema, isPlainName, type PostgresTables, tableNames } from './postgresSchema.js';

export type PostgresProjectionTargetOptions = (
  | {
      /** e.g. `postgres://user:password@127.0.0.1:5432/app` (DATABASE_URL). */
      connectionString: string;
      pool?: undefined;
      /** Extra pool settings (size, timeouts). Default: 10 connections, 5 s connect timeout. */
      poolOptions?: Omit<PoolConfig, 'connectionString'>;
    }
  | {
      /** A pool you own: `close()` leaves it open. */
      pool: Pool;
      connectionString?: undefined;
      poolOptions?: undefined;
    }
) & {
  /** Schema of the tables, created when missing. Default `public`. */
  schema?: string;
  /** Prefix of the tables `<prefix>documents` and `<prefix>projections`. Default `eventloom_`. */
  tablePrefix?: string;
  /** Errors of idle pooled connections (the pool replaces them). Default: ignored. */
  onPoolError?: (error: Error) => void;
};

export interface PostgresProjectionTarget extends ProjectionTarget {
  readonly pool: Pool;
  /**
   * Creates (when missing) one B-tree index per field list — equality on the leading fields,
   * order by the last — so `find(collection, { userId }, { sort: { field: 'position' } })`
   * reads an index instead of sorting the collection.
   */
  createIndexes(fieldLists: readonly (readonly string[])[]): Promise<void>;
  /** Resolves once the tables exist; rejects with a clear error otherwise. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

function toJson(doc: Document, path: string): string {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new ValidationError(path, 'must be a plain object');
  }
  // JSON.stringify would silently drop functions and turn NaN into null: refuse them instead.
  assertJsonValue(doc, path, { allowDates: true });
  return JSON.stringify(doc);
}

/** The last write per document wins: what a batch leaves behind, without repeated rows. */
function collapse(writes: readonly DocumentWrite[]): DocumentWrite[] {
  const last = new Map<string, DocumentWrite>();
  for (const w of writes) last.set(JSON.stringify([w.collection, w.id]), w);
  return [...last.values()];
}

/**
 * A projection target on PostgreSQL (the "read store"): read-model documents as JSONB in
 * one table keyed by (collection, id), and each projection's checkpoint in another. A
 * batch's writes and its checkpoint commit in one transaction, and a batch at or below the
 * stored checkpoint is skipped, so a redelivered or replayed batch is never applied twice.
 *
 * @example
 * const target = createPostgresProjectionTarget({ connectionString: process.env.DATABASE_URL! });
 * startProjection({ store, projection: usersProjection, target });
 * // SELECT doc FROM eventloom_documents WHERE collection = 'users' AND doc->>'username' = 'ada';
 */
export function createPostgresProjectionTarget(
  options: PostgresProjectionTargetOptions,
): PostgresProjectionTarget {
  const schema = options.schema ?? 'public';
  const prefix = options.tablePrefix ?? 'eventloom_';
  if (!isPlainName(schema)) {
    throw new ValidationError(
      'options.schema',
      `'${schema}' is not a plain name (letters, digits, _)`,
    );
  }
  if (!/^[A-Za-z0-9_]{0,40}$/.test(prefix)) {
    throw new ValidationError(
      'options.tablePrefix',
      `'${prefix}' may only hold letters, digits, _`,
    );
  }
  const ownsPool = options.pool === undefined;
  let pool: Pool;
  if (options.pool !== undefined) {
    pool = options.pool;
  } else {
    if (typeof options.connectionString !== 'string' || options.connectionString === '') {
      throw new ValidationError(
        'options.connectionString',
        'must be a postgres:// URL (or pass a pg Pool as options.pool)',
      );
    }
    pool = new Pool({
      max: 10,
      connectionTimeoutMillis: 5000,
      ...options.poolOptions,
      connectionString: options.connectionString,
    });
  }
  // An idle client's error is emitted on the pool; unhandled, it would end the process.
  const onPoolError = options.onPoolError ?? (() => undefined);
  if (ownsPool) pool.on('error', onPoolError);
  const connection = options.connectionString;
  const t: PostgresTables = tableNames(schema, prefix);
  let readyPromise: Promise<void> | undefined;
  let closed = false;

  const ready = (): Promise<void> => {
    readyPromise ??= ensureSchema(pool, t).catch((error: unknown) => {
      readyPromise = undefined;
      throw translatePostgresError(error, 'Creating the read-model tables', connection);
    });
    return readyPromise;
  };

  async function run<T>(context: string, fn: () => Promise<T>): Promise<T> {
    if (closed) throw new StoreClosedError('PostgreSQL projection target');
    await ready();
    try {
      return await fn();
    } catch (error) {
      throw translatePostgresError(error, context, connection);
    }
  }

  async function transaction<T>(context: string, fn: (c: PoolClient) => Promise<T>): Promise<T> {
    return run(context, async () => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    });
  }

  function findQuery(
    collection: string,
    filter: DocumentFilter | undefined,
    options: FindOptions | undefined,
  ): { text: string; values: unknown[] } {
    const values: unknown[] = [collection];
    const where = ['collection = $1'];
    for (const [key, value] of Object.entries(filter ?? {})) {
      // Field names are checked plain names, written as literals so indexes on
      // (doc -> 'field') apply (see createIndexes).
      const field = `doc -> ${escapeLiteral(checkField(key, 'filter'))}`;
      if (value === null) {
        // Like the other targets: a missing field matches null too.
        where.push(`${field} IS NULL OR ${field} = 'null'::jsonb`);
      } else {
        values.push(JSON.stringify(value));
        where.push(`${field} = $${values.length}::jsonb`);
      }
    }
    let order = 'id';
    const sort = options?.sort;
    if (sort) {
      const field = `doc -> ${escapeLiteral(checkField(sort.field, 'options.sort.field'))}`;
      // Missing values sort as the smallest, as in SQLite and MongoDB.
      order =
        sort.direction === 'desc'
          ? `${field} DESC NULLS LAST, id DESC`
          : `${field} ASC NULLS FIRST, id ASC`;
    }
    let limit = '';
    if (options?.limit !== undefined) {
      values.push(Math.max(0, Math.floor(options.limit)));
      limit = ` LIMIT $${values.length}`;
    }
    return {
      text: `SELECT id, doc FROM ${t.documents} WHERE ${where.map((w) => `(${w})`).join(' AND ')} ORDER BY ${order}${limit}`,
      values,
    };
  }

  const findEntries = (collection: string, filter?: DocumentFilter, options?: FindOptions) =>
    run(`Querying read-model collection '${collection}'`, async () => {
      const { rows } = await pool.query<{ id: string; doc: Document }>(
        findQuery(collection, filter, options),
      );
      return rows.map((r) => ({ id: r.id, doc: r.doc }));
    });

  async function applyWrites(client: PoolClient, writes: readonly DocumentWrite[]): Promise<void> {
    const puts: { collection: string; id: string; doc: string }[] = [];
    const deletes: { collection: string; id: string }[] = [];
    for (const w of collapse(writes)) {
      if (w.op === 'put') {
        puts.push({
          collection: w.collection,
          id: w.id,
          doc: toJson(w.doc, `documents.${w.collection}[${w.id}]`),
        });
      } else {
        deletes.push({ collection: w.collection, id: w.id });
      }
    }
    if (puts.length > 0) {
      await client.query(
        `INSERT INTO ${t.documents} (collection, id, doc)
         SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[])
         ON CONFLICT (collection, id) DO UPDATE SET doc = EXCLUDED.doc`,
        [puts.map((p) => p.collection), puts.map((p) => p.id), puts.map((p) => p.doc)],
      );
    }
    if (deletes.length > 0) {
      await client.query(
        `DELETE FROM ${t.documents} d USING unnest($1::text[], $2::text[]) AS x(collection, id)
         WHERE d.collection = x.collection AND d.id = x.id`,
        [deletes.map((d) => d.collection), deletes.map((d) => d.id)],
      );
    }
  }

  const documents: DocumentStore = {
    get: <T extends Document = Document>(collection: string, id: string) =>
      run(`Reading ${collection}/${id}`, async () => {
        const { rows } = await pool.query<{ doc: T }>(
          `SELECT doc FROM ${t.documents} WHERE collection = $1 AND id = $2`,
          [collection, id],
        );
        return rows[0]?.doc;
      }),
    find: async <T extends Document = Document>(
      collection: string,
      filter?: DocumentFilter,
      options?: FindOptions,
    ) => (await findEntries(collection, filter, options)).map((e) => e.doc as T),
    put: (collection, id, doc) =>
      run(`Writing ${collection}/${id}`, async () => {
        await pool.query(
          `INSERT INTO ${t.documents} (collection, id, doc) VALUES ($1, $2, $3::jsonb)
           ON CONFLICT (collection, id) DO UPDATE SET doc = EXCLUDED.doc`,
          [collection, id, toJson(doc, `documents.${collection}[${id}]`)],
        );
      }),
    delete: (collection, id) =>
      run(`Deleting ${collection}/${id}`, async () => {
        await pool.query(`DELETE FROM ${t.documents} WHERE collection = $1 AND id = $2`, [
          collection,
          id,
        ]);
      }),
  };

  return {
    pool,
    ready,
    documents,
    createIndexes: (fieldLists) =>
      run('Creating read-model indexes', async () => {
        for (const fields of fieldLists) {
          const names = fields.map((f) => checkField(f, 'fields'));
          const name = `${prefix}documents_${names.join('_')}`.slice(0, 63);
          const columns = names.map((f) => `(doc -> ${escapeLiteral(f)}) NULLS FIRST`).join(', ');
          await pool.query(
            `CREATE INDEX IF NOT EXISTS ${escapeIdentifier(name)} ON ${t.documents} (collection, ${columns}, id)`,
          );
        }
      }),
    findEntries,
    loadCheckpoint: (projection) =>
      run(`Loading the checkpoint of projection '${projection}'`, async () => {
        const { rows } = await pool.query<{ position: string }>(
          `SELECT position FROM ${t.projections} WHERE name = $1`,
          [projection],
        );
        const row = rows[0];
        return row === undefined || Number(row.position) < 0 ? undefined : Number(row.position);
      }),
    commit: (projection, position, writes) =>
      transaction(`Committing projection '${projection}' at position ${position}`, async (c) => {
        // Create the checkpoint row if needed, then lock it: concurrent commits of the same
        // projection queue here, and one that is not ahead of the stored position is a
        // redelivery whose writes are already in.
        await c.query(
          `INSERT INTO ${t.projections} (name, position) VALUES ($1, -1) ON CONFLICT (name) DO NOTHING`,
          [projection],
        );
        const { rows } = await c.query<{ position: string }>(
          `SELECT position FROM ${t.projections} WHERE name = $1 FOR UPDATE`,
          [projection],
        );
        if (Number(rows[0]?.position ?? -1) >= position) return;
        await applyWrites(c, writes);
        await c.query(
          `UPDATE ${t.projections} SET position = $2, updated_at = now() WHERE name = $1`,
          [projection, position],
        );
      }),
    commitClaim: (claim, writes) =>
      transaction(`Committing ${claim.collection}/${claim.id} with its writes`, async (c) => {
        // The claim row goes in first and stays locked until COMMIT: a concurrent insert of
        // the same id waits for it, then finds it and writes nothing.
        const { rowCount } = await c.query(
          `INSERT INTO ${t.documents} (collection, id, doc) VALUES ($1, $2, $3::jsonb)
           ON CONFLICT (collection, id) DO NOTHING`,
          [
            claim.collection,
            claim.id,
            toJson(claim.doc, `documents.${claim.collection}[${claim.id}]`),
          ],
        );
        if (rowCount === 0) return false;
        await applyWrites(c, writes);
        return true;
      }),
    reset: (projection, collections) =>
      transaction(`Resetting projection '${projection}'`, async (c) => {
        await c.query(`DELETE FROM ${t.documents} WHERE collection = ANY($1::text[])`, [
          [...collections],
        ]);
        await c.query(`DELETE FROM ${t.projections} WHERE name = $1`, [projection]);
      }),
    async close() {
      if (closed) return;
      closed = true;
      if (ownsPool) await pool.end();
    },
  };
}
