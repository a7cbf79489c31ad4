import { Pool } from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { isStoreUnavailableError } from '../../src/core/index.js';
import { createPostgresProjectionTarget } from '../../src/postgres/index.js';
import { documentStoreContract } from '../contract/documentStoreContract.js';
import { expectEveryCallTranslated, projectionTargetCalls } from '../contract/storeFailureCalls.js';
import { DATABASE_URL, serviceAvailable, uniqueName } from '../support/services.js';

const available = await serviceAvailable('postgres');

describe.skipIf(!available)('PostgreSQL ports', () => {
  const admin = new Pool({ connectionString: DATABASE_URL, max: 4 });
  const schemas: string[] = [];
  afterAll(async () => {
    for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    await admin.end();
  });

  documentStoreContract('postgres', {
    create: async () => {
      const schema = uniqueName('el_pgport');
      schemas.push(schema);
      const target = createPostgresProjectionTarget({ pool: admin, schema });
      await target.ready();
      return target;
    },
  });
});

describe('PostgreSQL read models on an unreachable server', () => {
  // Nothing listens on port 1: every connection attempt is refused.
  const pool = new Pool({ connectionString: 'postgres://u:p@127.0.0.1:1/none', max: 1 });
  afterAll(() => pool.end());

  it('reject every call with a StoreUnavailableError carrying the driver error', async () => {
    const target = createPostgresProjectionTarget({ pool });
    await expectEveryCallTranslated(projectionTargetCalls(target), (error, method) => {
      expect(isStoreUnavailableError(error), `${method}: ${error.message}`).toBe(true);
    });
  });

  it('rejects every call of a closed target with a StoreClosedError', async () => {
    const target = createPostgresProjectionTarget({ connectionString: DATABASE_URL });
    await target.close();
    for (const [method, call] of Object.entries(projectionTargetCalls(target))) {
      await expect(call(), method).rejects.toMatchObject({ code: 'STORE_CLOSED' });
    }
  });
});
