import { MongoClient } from 'mongodb';
import { newEventId } from '../core/eventId.js';
import type { EventData } from '../core/types.js';
import { createMongoEventStore, type MongoEventStore } from '../mongodb/mongoEventStore.js';
import {
  appendConcurrently,
  type BenchOptions,
  type BenchRow,
  compare,
  time,
  type Timed,
  benchPayload,
  wanted,
} from './benchHarness.js';

interface RawEventDoc {
  _id: string;
  streamId: string;
  version: number;
  position: number;
  type: string;
  data: unknown;
  metadata: unknown;
  recordedAt: Date;
}

/**
 * MongoDB rows: Eventloom's store against what a developer writes by hand with the raw
 * driver — one document per event with a unique (streamId, version) index, the stream's
 * version read first, then insertOne / insertMany — on the same server in the same run.
 */
export async function runMongoBench(options: BenchOptions & { url: string }): Promise<BenchRow[]> {
  const client = new MongoClient(options.url, { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  const dbs: string[] = [];
  let n = 0;
  const freshStore = async (): Promise<MongoEventStore> => {
    const name = `eventloom_bench_${Date.now().toString(36)}_${n++}`;
    dbs.push(name);
    const store = createMongoEventStore({ client, dbName: name, onNotice: () => undefined });
    await store.ready();
    return store;
  };
  const freshRaw = async () => {
    const name = `eventloom_bench_raw_${Date.now().toString(36)}_${n++}`;
    dbs.push(name);
    const events = client.db(name).collection<RawEventDoc>('events');
    await events.createIndexes([
      { key: { streamId: 1, version: 1 }, unique: true },
      { key: { position: 1 }, unique: true },
    ]);
    let position = 0;
    const versionOf = async (streamId: string): Promise<number> =>
      (
        await events
          .find({ streamId }, { projection: { version: 1 } })
          .sort({ version: -1 })
          .limit(1)
          .next()
      )?.version ?? 0;
    const toDoc = (streamId: string, e: EventData, version: number): RawEventDoc => ({
      _id: newEventId(),
      streamId,
      version,
      position: ++position,
      type: e.type,
      data: e.data,
      metadata: e.metadata ?? {},
      recordedAt: new Date(),
    });
    return {
      events,
      appendOne: async (streamId: string, e: EventData) => {
        const v = await versionOf(streamId);
        await events.insertOne(toDoc(streamId, e, v + 1));
      },
      appendMany: async (streamId: string, es: EventData[]) => {
        const v = await versionOf(streamId);
        await events.insertMany(es.map((e, i) => toDoc(streamId, e, v + 1 + i)));
      },
    };
  };
  const size = (base: number): number => Math.max(50, Math.round(base * options.scale));
  const rows: BenchRow[] = [];
  try {
    const singles = size(3000);
    const streams = 300;
    const sequentialBaseline = async (): Promise<Timed> => {
      const raw = await freshRaw();
      return time(singles, async () => {
        for (let i = 0; i < singles; i++)
          await raw.appendOne(`cart-${i % streams}`, benchPayload(i));
      });
    };
    if (wanted(options, 'append-single'))
      rows.push(
        await compare(
          'mongodb',
          'append-single',
          options,
          async () => {
            const store = await freshStore();
            const versions = new Array<number>(streams).fill(0);
            return time(singles, async () => {
              for (let i = 0; i < singles; i++) {
                const s = i % streams;
                await store.appendToStream(`cart-${s}`, [benchPayload(i)], {
                  expectedVersion: versions[s],
                });
                versions[s] = (versions[s] as number) + 1;
              }
            });
          },
          sequentialBaseline,
        ),
      );

    // 32 callers at once against the raw driver's sequential single appends.
    if (wanted(options, 'append-single-concurrent'))
      rows.push({
        ...(await compare(
          'mongodb',
          'append-single-concurrent',
          options,
          async () => appendConcurrently(await freshStore(), singles, 32, 10),
          sequentialBaseline,
        )),
        notes: { callers: 32, baseline: 'raw driver, sequential single appends' },
      });

    const batches = Math.max(5, Math.round(size(20_000) / 100));
    const batch = Array.from({ length: 100 }, (_, i) => benchPayload(i));
    if (wanted(options, 'append-batch-100'))
      rows.push(
        await compare(
          'mongodb',
          'append-batch-100',
          options,
          async () => {
            const store = await freshStore();
            return time(batches * 100, async () => {
              for (let b = 0; b < batches; b++)
                await store.appendToStream(`order-${b % 30}`, batch);
            });
          },
          async () => {
            const raw = await freshRaw();
            return time(batches * 100, async () => {
              for (let b = 0; b < batches; b++) await raw.appendMany(`order-${b % 30}`, batch);
            });
          },
        ),
      );

    if (!wanted(options, 'read-stream') && !wanted(options, 'read-all')) return rows;
    const readStreams = Math.max(5, Math.round(size(20_000) / 200));
    const store = await freshStore();
    const raw = await freshRaw();
    options.progress(`mongodb: preparing ${readStreams * 200} events for the read workloads`);
    for (let s = 0; s < readStreams; s++) {
      const events = Array.from({ length: 200 }, (_, i) => benchPayload(s * 200 + i));
      // Ours in commits of 20 events, a typical command size.
      for (let k = 0; k < 200; k += 20)
        await store.appendToStream(`ledger-${s}`, events.slice(k, k + 20));
      await raw.appendMany(`ledger-${s}`, events);
    }
    const total = readStreams * 200;
    if (wanted(options, 'read-stream'))
      rows.push(
        await compare(
          'mongodb',
          'read-stream',
          options,
          () =>
            time(total, async () => {
              for (let s = 0; s < readStreams; s++) await store.readStream(`ledger-${s}`);
            }),
          () =>
            time(total, async () => {
              for (let s = 0; s < readStreams; s++)
                await raw.events
                  .find({ streamId: `ledger-${s}` })
                  .sort({ version: 1 })
                  .toArray();
            }),
        ),
      );
    if (wanted(options, 'read-all'))
      rows.push(
        await compare(
          'mongodb',
          'read-all',
          options,
          () =>
            time(total, async () => {
              for (let from = 0; ;) {
                const got = await store.readAll({ from, maxCount: 1000 });
                if (got.length === 0) break;
                from = (got[got.length - 1] as { position: number }).position + 1;
              }
            }),
          () =>
            time(total, async () => {
              for (let from = 0; ;) {
                const got = await raw.events
                  .find({ position: { $gte: from } })
                  .sort({ position: 1 })
                  .limit(1000)
                  .toArray();
                if (got.length === 0) break;
                from = (got[got.length - 1] as RawEventDoc).position + 1;
              }
            }),
        ),
      );
    return rows;
  } finally {
    for (const name of dbs)
      await client
        .db(name)
        .dropDatabase()
        .catch(() => undefined);
    await client.close();
  }
}
