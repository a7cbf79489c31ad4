import BetterSqlite3 from 'better-sqlite3';
import { MongoClient } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';
import { createMemoryDocuments } from '../../src/core/memoryDocumentStore.js';
import type { DocumentStore, ProjectionTarget } from '../../src/core/readModel.js';
import { createProcessedEvents } from '../../src/kafka/processedEvents.js';
import { createMongoProjectionTarget } from '../../src/mongodb/mongoDocumentStore.js';
import { createPostgresProjectionTarget } from '../../src/postgres/postgresDocumentStore.js';
import { createSqliteProjectionTarget } from '../../src/sqlite/sqliteDocumentStore.js';
import { processedEventsContract } from '../contract/processedEventsContract.js';
import { DATABASE_URL, MONGODB_URL, serviceAvailable, uniqueName } from '../support/services.js';

const [mongoUp, postgresUp] = await Promise.all([
  serviceAvailable('mongodb'),
  serviceAvailable('postgres'),
]);
const closers: (() => Promise<void>)[] = [];
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}
afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined);
});

processedEventsContract('a memory target', {
  create: () => Promise.resolve(createMemoryDocuments().target),
});

processedEventsContract('a SQLite target', {
  create: () => {
    const db = new BetterSqlite3(':memory:');
    closers.push(() => Promise.resolve(void db.close()));
    return Promise.resolve(createSqliteProjectionTarget(db));
  },
});

let mongo: MongoClient | undefined;
processedEventsContract('a MongoDB target', {
  skip: !mongoUp,
  create: async () => {
    if (!mongo) {
      const client = new MongoClient(MONGODB_URL);
      mongo = client;
      closers.push(() => client.close());
    }
    const db = mongo.db(uniqueName('el_processed'));
    closers.push(() => db.dropDatabase().then(() => undefined));
    return createMongoProjectionTarget({ db });
  },
});

describe.skipIf(!mongoUp)('processed events on MongoDB, a writer stopped after its claim', () => {
  it('lets the next delivery finish the journaled change, and fences the writer when it resumes', async () => {
    const client = new MongoClient(MONGODB_URL);
    const db = client.db(uniqueName('el_claims'));
    closers.push(async () => {
      await db.dropDatabase();
      await client.close();
    });
    // The first member's driver calls pass through a gate after its claim is inserted: the
    // process is paused between journaling and applying, as a SIGSTOP there would.
    const resume = gate();
    const paused = gate();
    const pausing = new Proxy(db, {
      get(target, prop, receiver) {
        if (prop !== 'collection') return Reflect.get(target, prop, receiver) as unknown;
        return (name: string) => {
          const coll = db.collection(name);
          return new Proxy(coll, {
            get(c, p, r) {
              if (p !== 'replaceOne') return Reflect.get(c, p, r) as unknown;
              return async (...args: Parameters<typeof coll.replaceOne>) => {
                paused.open();
                await resume.opened;
                return coll.replaceOne(...args);
              };
            },
          });
        };
      },
    });
    const frozen = createProcessedEvents({
      target: createMongoProjectionTarget({ db: pausing }),
      name: 'streams',
    });
    const owner = createProcessedEvents({
      target: createMongoProjectionTarget({ db }),
      name: 'streams',
    });
    const read = createMongoProjectionTarget({ db }).documents;
    const increment = async (docs: DocumentStore): Promise<void> => {
      const doc = await docs.get<{ count: number }>('counters', 's1');
      await docs.put('counters', 's1', { count: (doc?.count ?? 0) + 1 });
    };
    const late = frozen.once({ id: 'e1' }, increment);
    await paused.opened;
    expect(await read.get('counters', 's1')).toBeUndefined();
    expect(await owner.has('e1')).toBe(false);
    expect(await owner.once({ id: 'e1' }, increment)).toBe(false);
    expect(await read.get('counters', 's1')).toEqual({ count: 1 });
    expect(await owner.once({ id: 'e2' }, increment)).toBe(true);
    expect(await read.get('counters', 's1')).toEqual({ count: 2 });
    resume.open();
    await late;
    expect(await read.get('counters', 's1')).toEqual({ count: 2 });
    expect(await owner.has('e1')).toBe(true);
  });
});

processedEventsContract('a PostgreSQL target', {
  skip: !postgresUp,
  create: () => {
    const schema = uniqueName('el_processed').toLowerCase();
    const target = createPostgresProjectionTarget({ connectionString: DATABASE_URL, schema });
    closers.push(async () => {
      await target.pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await target.close?.();
    });
    return Promise.resolve(target);
  },
});

describe('processed events options', () => {
  it('names the bad option', () => {
    const target = createMemoryDocuments().target;
    expect(() => createProcessedEvents({ target, name: '' })).toThrow(/options.name/);
    expect(() => createProcessedEvents({ target: {} as ProjectionTarget, name: 'x' })).toThrow(
      /options.target/,
    );
    const { commitClaim: _, ...withoutClaims } = target;
    expect(() => createProcessedEvents({ target: withoutClaims, name: 'x' })).toThrow(
      /options.target: must support commitClaim/,
    );
  });
});
