import { join } from 'node:path';
import type { EventData, EventStore } from '../core/types.js';
import { personalData } from '../core/personalData.js';
import { createSqliteEventStore } from '../sqlite/sqliteEventStore.js';
import { type BenchOptions, type BenchRow, compare, time } from './benchHarness.js';

type CustomerRegistered = {
  type: 'CustomerRegistered';
  data: { customerId: string; email: string; name: string; plan: string };
};

const policy = personalData<CustomerRegistered>({
  CustomerRegistered: { subject: (e) => e.data.customerId, fields: ['email', 'name'] },
});

/** An event with two personal fields, about one of 1000 customers. */
const personalPayload = (i: number): EventData => ({
  type: 'CustomerRegistered',
  data: {
    customerId: `c-${i % 1000}`,
    email: `customer-${i}@example.com`,
    name: `Customer Number ${i}`,
    plan: 'pro',
  },
  metadata: { correlationId: `c-${i}` },
});

/**
 * The cost of crypto-shredding on SQLite: the same events with two personal fields, through
 * the crypto-shredding store (ours) and the plain store (baseline), in the same run.
 */
export async function runPersonalDataBench(
  options: BenchOptions,
  dir: string,
): Promise<BenchRow[]> {
  let files = 0;
  const open = (personal: boolean): EventStore => {
    const path = join(dir, `personal-${files++}.db`);
    if (!personal) return createSqliteEventStore({ path });
    // The store's own option: node:crypto, keys in the same file.
    return createSqliteEventStore({
      path,
      personalData: {
        policy,
        keyEncryptionKey: { bytes: crypto.getRandomValues(new Uint8Array(32)) },
      },
    });
  };
  const n = (base: number): number => Math.max(100, Math.round(base * options.scale));
  const note = { baseline: 'the plain SQLite store, same events' };
  const rows: BenchRow[] = [];

  const singles = n(20_000);
  const appendSingles = async (personal: boolean) => {
    const store = open(personal);
    const t = await time(singles, async () => {
      for (let i = 0; i < singles; i++) {
        await store.appendToStream(`customer-${i % 1000}`, [personalPayload(i)]);
      }
    });
    await store.close();
    return t;
  };
  rows.push({
    ...(await compare(
      'sqlite',
      'append-single-personal',
      options,
      () => appendSingles(true),
      () => appendSingles(false),
    )),
    notes: note,
  });

  const total = Math.max(200, Math.round(n(40_000) / 200) * 200);
  const shredding = open(true);
  const plain = open(false);
  options.progress(`sqlite: preparing ${total} personal events for read-all-personal`);
  for (let b = 0; b < total / 200; b++) {
    const events = Array.from({ length: 200 }, (_, i) => personalPayload(b * 200 + i));
    await shredding.appendToStream(`customers-${b}`, events);
    await plain.appendToStream(`customers-${b}`, events);
  }
  const readAll = (store: EventStore) =>
    time(total, async () => {
      for (let from = 0; ;) {
        const got = await store.readAll({ from, maxCount: 1000 });
        if (got.length === 0) break;
        from = got[got.length - 1]!.position + 1;
      }
    });
  rows.push({
    ...(await compare(
      'sqlite',
      'read-all-personal',
      options,
      () => readAll(shredding),
      () => readAll(plain),
    )),
    notes: note,
  });
  await shredding.close();
  await plain.close();
  return rows;
}
