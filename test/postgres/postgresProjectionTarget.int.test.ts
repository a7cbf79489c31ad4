import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createMemoryEventStore,
  isConfigurationError,
  isStoreUnavailableError,
  isValidationError,
} from '../../src/core/index.js';
import { createPostgresProjectionTarget } from '../../src/postgres/index.js';
import { projectionContract } from '../contract/projectionContract.js';
import { DATABASE_URL, serviceAvailable, uniqueName } from '../support/services.js';

const available = await serviceAvailable('postgres');

projectionContract('memory store + postgres read models', {
  inline: false,
  skip: !available,
  create: async () => {
    const schema = uniqueName('el_pg');
    const target = createPostgresProjectionTarget({ connectionString: DATABASE_URL, schema });
    await target.ready();
    const store = createMemoryEventStore();
    const close = store.close.bind(store);
    return {
      store: Object.assign(store, {
        close: async () => {
          await close();
          await target.pool.query(`DROP SCHEMA ${schema} CASCADE`);
          await target.close();
        },
      }),
      target,
    };
  },
});

describe.skipIf(!available)('PostgreSQL projection target', () => {
  let admin: Pool;
  const schemas: string[] = [];
  const fresh = async () => {
    const schema = uniqueName('el_pgt');
    schemas.push(schema);
    const target = createPostgresProjectionTarget({ pool: admin, schema });
    await target.ready();
    return target;
  };

  beforeAll(() => {
    admin = new Pool({ connectionString: DATABASE_URL, max: 4 });
  });
  afterAll(async () => {
    for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    await admin.end();
  });

  it('commits writes and the checkpoint together and skips a batch it already has', async () => {
    const target = await fresh();
    await target.commit('p', 5, [{ op: 'put', collection: 'c', id: 'a', doc: { n: 1 } }]);
    await target.commit('p', 5, [{ op: 'put', collection: 'c', id: 'a', doc: { n: 99 } }]);
    await target.commit('p', 3, [{ op: 'delete', collection: 'c', id: 'a' }]);
    expect(await target.documents.get('c', 'a')).toEqual({ n: 1 });
    expect(await target.loadCheckpoint('p')).toBe(5);
  });

  it('applies the last of several writes to one document in a batch', async () => {
    const target = await fresh();
    await target.commit('p', 1, [
      { op: 'put', collection: 'c', id: 'a', doc: { n: 1 } },
      { op: 'delete', collection: 'c', id: 'a' },
      { op: 'put', collection: 'c', id: 'b', doc: { n: 2 } },
      { op: 'put', collection: 'c', id: 'b', doc: { n: 3 } },
    ]);
    expect(await target.findEntries('c')).toEqual([{ id: 'b', doc: { n: 3 } }]);
  });

  it('rolls back every write of a batch when one of them is refused', async () => {
    const target = await fresh();
    const failed = target.commit('p', 1, [
      { op: 'put', collection: 'c', id: 'ok', doc: { n: 1 } },
      { op: 'put', collection: 'c', id: 'bad', doc: { text: 'nul \u0000 byte' } },
    ]);
    await expect(failed).rejects.toSatisfy(isValidationError);
    expect(await target.documents.get('c', 'ok')).toBeUndefined();
    expect(await target.loadCheckpoint('p')).toBeUndefined();
  });

  it('matches null filters on missing fields and sorts missing values first', async () => {
    const target = await fresh();
    await target.commit('p', 1, [
      { op: 'put', collection: 'c', id: '1', doc: { rank: 2, tag: null } },
      { op: 'put', collection: 'c', id: '2', doc: { rank: 1 } },
      { op: 'put', collection: 'c', id: '3', doc: { tag: 'x' } },
    ]);
    expect((await target.findEntries('c', { tag: null })).map((e) => e.id)).toEqual(['1', '2']);
    const sorted = await target.findEntries('c', undefined, { sort: { field: 'rank' } });
    expect(sorted.map((e) => e.id)).toEqual(['3', '2', '1']);
    await expect(target.documents.find('c', { 'a; drop': 1 })).rejects.toSatisfy(isValidationError);
  });

  it('serves a filtered, sorted, limited query from an index made by createIndexes', async () => {
    const target = await fresh();
    await target.createIndexes([['userId', 'position']]);
    await target.commit(
      'p',
      1,
      Array.from({ length: 3000 }, (_, i) => ({
        op: 'put' as const,
        collection: 'tweets',
        id: `t${i}`,
        doc: { userId: `u${i % 30}`, position: i },
      })),
    );
    await target.pool.query('ANALYZE');
    const found = await target.documents.find<{ position: number }>(
      'tweets',
      { userId: 'u7' },
      { sort: { field: 'position', direction: 'desc' }, limit: 3 },
    );
    expect(found.map((d) => d.position)).toEqual([2977, 2947, 2917]);
    const client = await target.pool.connect();
    try {
      await client.query(`SET search_path TO ${schemas.at(-1)!}`);
      await client.query('SET enable_seqscan = off');
      const plan = await client.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN SELECT id, doc FROM eventloom_documents WHERE collection = 'tweets' AND doc -> 'userId' = '"u7"'::jsonb ORDER BY doc -> 'position' DESC NULLS LAST, id DESC LIMIT 3`,
      );
      expect(plan.rows.map((r) => r['QUERY PLAN']).join('\n')).toMatch(
        /Index Scan Backward using "?eventloom_documents_userId_position/,
      );
    } finally {
      client.release();
    }
  });

  it('reports an unreachable server as a retryable StoreUnavailableError', async () => {
    const target = createPostgresProjectionTarget({
      connectionString: 'postgres://postgres:postgres@127.0.0.1:1/none',
      poolOptions: { connectionTimeoutMillis: 1000 },
    });
    const error = await target.loadCheckpoint('p').catch((e: unknown) => e);
    expect(isStoreUnavailableError(error)).toBe(true);
    expect(String((error as Error).message)).not.toContain('postgres:postgres');
    await target.close();
  });

  it('reports a wrong password as a configuration error that names what to check', async () => {
    const url = new URL(DATABASE_URL);
    url.password = 'wrong-password';
    const target = createPostgresProjectionTarget({ connectionString: url.toString() });
    const error = await target.ready().catch((e: unknown) => e);
    expect(isConfigurationError(error)).toBe(true);
    expect((error as Error).message).toMatch(/DATABASE_URL/);
    expect((error as Error).message).not.toContain('wrong-password');
    await target.close();
  });
});
