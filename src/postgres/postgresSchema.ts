import { escapeIdentifier, type Pool } from 'pg';

/** Fully qualified, quoted names of the target's two tables. */
export interface PostgresTables {
  schema: string;
  documents: string;
  projections: string;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,50}$/;

export function tableNames(schema: string, prefix: string): PostgresTables {
  const s = escapeIdentifier(schema);
  return {
    schema: s,
    documents: `${s}.${escapeIdentifier(`${prefix}documents`)}`,
    projections: `${s}.${escapeIdentifier(`${prefix}projections`)}`,
  };
}

export function isPlainName(name: string): boolean {
  return NAME.test(name);
}

/**
 * Creates the schema and tables when missing. One JSONB table holds every read-model
 * collection (query a collection with `WHERE collection = 'users'`); indexes for the
 * queries are created on request (`createIndexes`).
 */
export async function ensureSchema(pool: Pool, tables: PostgresTables): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // Concurrent CREATE … IF NOT EXISTS can still collide in the catalog: serialize them.
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [tables.documents]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${tables.schema}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${tables.documents} (
        collection text NOT NULL,
        id text NOT NULL,
        doc jsonb NOT NULL,
        PRIMARY KEY (collection, id)
      )`,
    );
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${tables.projections} (
        name text PRIMARY KEY,
        position bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`,
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
