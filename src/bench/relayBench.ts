import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  compatibilityPartitioner,
  ProduceAcks,
  Producer,
  stringSerializers,
} from '@platformatic/kafka';
import { type Document, MongoClient, Timestamp } from 'mongodb';
import { noopLogger } from '../core/logger.js';
import { parseRelayConfig } from '../relay/parseRelayConfig.js';
import { startRelay } from '../relay/relayRunner.js';
import { type BenchOptions, type BenchRow, compare, type Timed, wanted } from './benchHarness.js';
import { sleep } from '../core/async.js';

export type RelayWorkload = 'relay-kafka' | 'relay-webhook';

export interface RelayBenchOptions extends BenchOptions {
  mongoUrl: string;
  brokers: string;
}

interface Sink {
  url: string;
  count: number;
  latencies: number[];
  close(): Promise<void>;
}

/** A local webhook receiver: counts requests and records write → receipt latency. */
async function startSink(): Promise<Sink> {
  const sink = { count: 0, latencies: [] as number[] } as Sink;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      sink.count++;
      const written = /"writtenAt":(\d+(?:\.\d+)?)/.exec(Buffer.concat(chunks).toString('utf8'));
      if (written)
        sink.latencies.push(performance.timeOrigin + performance.now() - Number(written[1]));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  sink.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  sink.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return sink;
}

const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round((s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0) * 10) / 10;
};

async function waitUntil(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await sleep(5);
  }
}

/**
 * Relay rows: changes per second from a MongoDB write to an acknowledgement by Kafka
 * (`relay-kafka`) and by a local webhook (`relay-webhook`), each against what one writes
 * by hand — a bare change stream feeding a producer (batched) or a fetch loop — on the same
 * server in the same run; plus write → receipt latency p50/p99 at 500 changes/s.
 */
export async function runRelayBench(options: RelayBenchOptions): Promise<BenchRow[]> {
  const client = new MongoClient(options.mongoUrl, { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  const brokers = options.brokers.split(',').map((b) => b.trim());
  const dbs: string[] = [];
  const topics: string[] = [];
  let n = 0;
  const freshDb = (): string => {
    const name = `eventloom_relaybench_${Date.now().toString(36)}_${n++}`;
    dbs.push(name);
    return name;
  };
  const docs = (count: number): Document[] =>
    Array.from({ length: count }, (_, i) => ({
      _id: i,
      sku: `SKU-${i % 997}`,
      quantity: (i % 5) + 1,
      price: 1999,
      note: 'benchmark payload of a typical size',
    }));
  const writeAll = async (db: string, count: number): Promise<void> => {
    const all = docs(count);
    for (let i = 0; i < all.length; i += 1000)
      await client
        .db(db)
        .collection('items')
        .insertMany(all.slice(i, i + 1000));
  };
  const serverTime = async (): Promise<Timestamp> => {
    const hello = await client.db('admin').command({ hello: 1 });
    if (hello.operationTime instanceof Timestamp) return hello.operationTime;
    const ms = hello.localTime instanceof Date ? hello.localTime.getTime() : Date.now();
    return new Timestamp({ t: Math.floor(ms / 1000) - 1, i: 0 });
  };

  const relayRun = async (
    count: number,
    sink: Record<string, unknown>,
    extra: Record<string, unknown> = {},
  ): Promise<Timed> => {
    const db = freshDb();
    const relay = await startRelay(
      parseRelayConfig({
        name: db,
        source: {
          mongodb: {
            url: options.mongoUrl,
            databases: { [db]: { collections: ['items'] } },
            batchSize: 5000,
            maxAwaitTimeMS: 100,
          },
        },
        pipeline: [{ filter: { operationType: 'insert' } }, sink],
        delivery: { maxInFlight: 5000 },
        server: false,
        lease: { enabled: false },
        ...extra,
      }),
      { log: noopLogger },
    );
    try {
      await waitUntil(() => relay.metrics.streams > 0, 10_000, 'the relay to start');
      await sleep(300);
      const start = performance.now();
      await writeAll(db, count);
      await waitUntil(() => relay.metrics.processed >= count, 120_000, `${count} relayed changes`);
      return { events: count, ms: performance.now() - start };
    } finally {
      await relay.stop();
      await client.db('eventloom_relay').collection('checkpoints').deleteMany({ relay: db });
    }
  };

  /** A bare change stream: what a relay written by hand does, with no guarantees. */
  const bareRun = async (
    count: number,
    deliver: (batch: Document[]) => Promise<void>,
    batchSize: number,
  ): Promise<Timed> => {
    const db = freshDb();
    const at = await serverTime();
    const stream = client
      .db(db)
      .collection('items')
      .watch([], { startAtOperationTime: at, batchSize: 5000, maxAwaitTimeMS: 100 });
    const start = performance.now();
    const writing = writeAll(db, count);
    let seen = 0;
    let batch: Document[] = [];
    while (seen < count) {
      const doc = await stream.tryNext();
      if (doc) {
        batch.push(doc);
        seen++;
      }
      if (batch.length >= batchSize || (doc === null && batch.length > 0) || seen === count) {
        await deliver(batch);
        batch = [];
      }
    }
    await writing;
    await stream.close();
    return { events: count, ms: performance.now() - start };
  };

  const rows: BenchRow[] = [];
  const want = (w: RelayWorkload): boolean => wanted(options, w);
  try {
    if (want('relay-kafka')) rows.push(await kafkaRow());
    if (want('relay-webhook')) rows.push(await webhookRow());
  } finally {
    for (const db of dbs) {
      await client
        .db(db)
        .dropDatabase()
        .catch(() => undefined);
      await client
        .db('eventloom_relay')
        .collection('checkpoints')
        .deleteMany({ relay: db })
        .catch(() => undefined);
    }
    await client.close();
  }
  return rows;

  async function kafkaRow(): Promise<BenchRow> {
    const kafkaCount = Math.max(500, Math.round(20_000 * options.scale));
    // The relay's kafka step produces with acks=all and the Java-compatible partitioner; the
    // bare loop gets the same settings (the client's default acks=1 would flatter it).
    const producer = new Producer({
      clientId: 'eventloom-relaybench-baseline',
      bootstrapBrokers: brokers,
      serializers: stringSerializers,
      acks: ProduceAcks.ALL,
      partitioner: compatibilityPartitioner,
    });
    const { Admin } = await import('@platformatic/kafka');
    const admin = new Admin({ clientId: 'eventloom-relaybench-admin', bootstrapBrokers: brokers });
    try {
      return await compare(
        'mongodb',
        'relay-kafka',
        options,
        async () => {
          const r = await relayRun(kafkaCount, {
            kafka: { brokers, topic: 'relaybench.{{ns.db}}', batchSize: 1000, lingerMs: 5 },
          });
          topics.push(`relaybench.${dbs.at(-1) ?? ''}`);
          return r;
        },
        async () => {
          const topic = `relaybench.baseline.${Date.now().toString(36)}`;
          topics.push(topic);
          await admin.createTopics({ topics: [topic], partitions: 3, replicas: 1 });
          return bareRun(
            kafkaCount,
            async (batch) => {
              await producer.send({
                messages: batch.map((d) => ({
                  topic,
                  key: String((d.documentKey as { _id: unknown })._id),
                  value: JSON.stringify(d),
                })),
              });
            },
            1000,
          );
        },
      );
    } finally {
      await producer.close();
      if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => undefined);
      await admin.close();
    }
  }

  async function webhookRow(): Promise<BenchRow> {
    const sink = await startSink();
    const hookCount = Math.max(200, Math.round(5000 * options.scale));
    try {
      const row = await compare(
        'mongodb',
        'relay-webhook',
        options,
        () => relayRun(hookCount, { http: { url: sink.url, concurrency: 32 } }),
        () =>
          bareRun(
            hookCount,
            async (batch) => {
              for (const d of batch) {
                const res = await fetch(sink.url, {
                  method: 'POST',
                  headers: { 'content-type': 'application/json' },
                  body: JSON.stringify(d),
                });
                await res.arrayBuffer();
              }
            },
            1,
          ),
      );
      // Latency at a steady 500 changes/s: write → webhook receipt, relay and bare stream.
      const rate = 500;
      const latencyCount = Math.max(500, Math.round(2500 * options.scale));
      const paced = async (db: string): Promise<number> => {
        sink.latencies = [];
        const before = sink.count;
        const start = performance.now();
        const items = client.db(db).collection<{ _id: number; writtenAt: number }>('items');
        for (let i = 0; i < latencyCount; i++) {
          const wait = start + (i * 1000) / rate - performance.now();
          if (wait > 1) await sleep(wait);
          await items.insertOne({ _id: i, writtenAt: performance.timeOrigin + performance.now() });
        }
        const achieved = Math.round((latencyCount / (performance.now() - start)) * 1000);
        await waitUntil(() => sink.count - before >= latencyCount, 60_000, 'latency run');
        return achieved;
      };
      const relayDb = freshDb();
      const relay = await startRelay(
        parseRelayConfig({
          name: relayDb,
          source: {
            mongodb: {
              url: options.mongoUrl,
              databases: { [relayDb]: { collections: ['items'] } },
              maxAwaitTimeMS: 100,
            },
          },
          pipeline: [{ http: { url: sink.url } }],
          server: false,
          lease: { enabled: false },
        }),
        { log: noopLogger },
      );
      let achieved: number;
      let relayLatencies: number[];
      try {
        await waitUntil(() => relay.metrics.streams > 0, 10_000, 'the relay to start');
        await sleep(300);
        achieved = await paced(relayDb);
        relayLatencies = sink.latencies;
      } finally {
        await relay.stop();
        await client.db('eventloom_relay').collection('checkpoints').deleteMany({ relay: relayDb });
      }
      const bareDb = freshDb();
      const bare = client
        .db(bareDb)
        .collection('items')
        .watch([], { startAtOperationTime: await serverTime(), maxAwaitTimeMS: 100 });
      let stop = false;
      const forwarding = (async () => {
        while (!stop) {
          const doc = await bare.tryNext().catch(() => null);
          if (!doc) continue;
          const res = await fetch(sink.url, { method: 'POST', body: JSON.stringify(doc) });
          await res.arrayBuffer();
        }
      })();
      await paced(bareDb);
      const bareLatencies = sink.latencies;
      stop = true;
      await bare.close();
      await forwarding;
      row.notes = {
        latencyP50Ms: percentile(relayLatencies, 50),
        latencyP99Ms: percentile(relayLatencies, 99),
        baselineLatencyP50Ms: percentile(bareLatencies, 50),
        baselineLatencyP99Ms: percentile(bareLatencies, 99),
        latencyTargetRate: rate,
        latencyAchievedWriteRate: achieved,
        latencyChanges: latencyCount,
      };
      options.progress(
        `mongodb relay-webhook latency at ${rate}/s: relay p50 ${row.notes.latencyP50Ms} ms p99 ${row.notes.latencyP99Ms} ms; bare stream p50 ${row.notes.baselineLatencyP50Ms} ms p99 ${row.notes.baselineLatencyP99Ms} ms`,
      );
      return row;
    } finally {
      await sink.close();
    }
  }
}
