import {
  BSON,
  type ChangeStream,
  type ChangeStreamDocument,
  type ChangeStreamOptions,
  type Document,
  MongoClient,
  MongoNetworkError,
  Timestamp,
} from 'mongodb';
import { backoffDelay, errorMessage, sleep } from '../core/async.js';
import { EventloomError } from '../core/errors.js';
import { hashKey, type ResumePoint, type SnapshotProgress } from './relayChange.js';
import type { MongoSourceConfig } from './relayConfig.js';
import type { StreamTracker } from './relayDelivery.js';
import {
  ejsonString,
  fromMongoChange,
  fromSnapshotDocument,
  MESSAGE_READ_OPTIONS,
  toTimestamp,
} from './relayMongoChange.js';
import type { RelaySource, SourceContext } from './relaySource.js';

export type WatchMode = 'deployment' | 'database' | 'collection';

/** Codes a server uses when a resume point is no longer in the oplog. */
const HISTORY_LOST_CODES = new Set([286, 280, 136]);

export function isHistoryLost(error: unknown): boolean {
  const e = error as { code?: unknown; codeName?: unknown; message?: unknown };
  return (
    (typeof e.code === 'number' && HISTORY_LOST_CODES.has(e.code)) ||
    e.codeName === 'ChangeStreamHistoryLost' ||
    /ChangeStreamHistoryLost|resume point may no longer be in the oplog|no longer be in the oplog/i.test(
      typeof e.message === 'string' ? e.message : '',
    )
  );
}

function isNetworkError(error: unknown): boolean {
  return (
    error instanceof MongoNetworkError ||
    /MongoServerSelectionError|MongoNetworkTimeoutError|ECONNREFUSED|ECONNRESET/.test(
      `${(error as Error).name} ${(error as Error).message}`,
    )
  );
}

export class HistoryLostError extends EventloomError {
  constructor(stream: string, cause: unknown) {
    super(
      'SUBSCRIPTION_STOPPED',
      `relay stream ${stream}: the checkpointed resume point is no longer in the oplog (${errorMessage(
        cause,
      )}) — changes made while the relay was away are lost. Set source.mongodb.onHistoryLost to 'resnapshot' (copy every document again) or 'skip' (continue from now), and consider a larger oplog`,
      { cause, details: { stream } },
    );
    this.name = 'HistoryLostError';
  }
}

interface StreamSpec {
  key: string;
  open: (options: ChangeStreamOptions) => ChangeStream;
  /** Namespaces an initial snapshot copies. */
  namespaces: () => Promise<string[]>;
}

/**
 * MongoDB change streams as a relay source. On a replica set (or sharded cluster) one
 * stream covers the deployment or each configured database, so collections created later
 * arrive on their own. Where the server only has collection streams (the test stand-in),
 * one stream per collection, re-listed every `discoveryIntervalMs`; a collection found
 * later starts from the time of the previous listing, so its first changes are not missed.
 */
export async function createMongoSource(
  config: MongoSourceConfig,
  ctx: SourceContext,
  options: { client?: MongoClient } = {},
): Promise<RelaySource> {
  const owned = options.client === undefined;
  const client =
    options.client ?? new MongoClient(config.url, { serverSelectionTimeoutMS: 10_000 });
  if (owned) await client.connect();
  const { deliverer, routing, state, metrics, signal } = ctx;
  const log = ctx.log.child({ source: 'mongodb' });
  const admin = client.db('admin');
  const hello = await admin.command({ hello: 1 });
  const replicated = typeof hello.setName === 'string' || hello.msg === 'isdbgrid';
  const buildInfo: Document = await admin
    .command({ buildInfo: 1 })
    .catch(() => ({ versionArray: [0] }));
  const major = Number((buildInfo.versionArray as number[] | undefined)?.[0] ?? 0);
  const preImages = (config.preImages ?? 'auto') === 'auto' && major >= 6;
  const mode: WatchMode =
    config.watch && config.watch !== 'auto'
      ? config.watch
      : !replicated
        ? 'collection'
        : routing.exactDatabases()
          ? 'database'
          : 'deployment';
  log.info(
    {
      mode,
      server: `${String(buildInfo.version ?? '?')}${replicated ? '' : ' (no replica set: per-collection streams)'}`,
      preImages,
    },
    'watching MongoDB',
  );

  const baseOptions: ChangeStreamOptions = {
    ...MESSAGE_READ_OPTIONS,
    maxAwaitTimeMS: config.maxAwaitTimeMS ?? 1000,
    batchSize: config.batchSize ?? 1000,
    ...((config.fullDocument ?? 'updateLookup') === 'updateLookup'
      ? { fullDocument: 'updateLookup' as const }
      : {}),
    ...(preImages ? { fullDocumentBeforeChange: 'whenAvailable' as const } : {}),
  };
  const openStreams = new Set<ChangeStream>();
  const runners: Promise<void>[] = [];
  let failure: ((error: unknown) => void) | undefined;
  const failed = new Promise<never>((_, reject) => {
    failure = reject;
  });
  failed.catch(() => undefined);
  let closing: Promise<void> | undefined;
  const closeClient = (): Promise<void> =>
    (closing ??= owned ? client.close().catch(() => undefined) : Promise.resolve());
  const onStop = (): void => {
    // Closed streams are not resumed when their pending read fails.
    for (const s of openStreams) void s.close().catch(() => undefined);
    // A getMore waits on the server up to maxAwaitTimeMS (longer on a loaded server), and
    // closing a stream only sends killCursors; MongoDB interrupts the getMore for it, the
    // stand-in does not. Closing our own client fails every pending read at once (the
    // driver closes checked-out connections) and ends the sessions, which frees the
    // server's cursors.
    void closeClient();
  };
  signal.addEventListener('abort', onStop, { once: true });

  /** The server's current cluster time, or (stand-in) its clock minus a safety second. */
  const serverTime = async (): Promise<{ t: number; i: number }> => {
    const reply: Document = await admin.command({ hello: 1 });
    const op: unknown =
      reply.operationTime ??
      (reply.$clusterTime as { clusterTime?: unknown } | undefined)?.clusterTime;
    if (op instanceof Timestamp) return { t: op.high, i: op.low };
    const local = reply.localTime instanceof Date ? reply.localTime.getTime() : Date.now();
    return { t: Math.floor(local / 1000) - 1, i: 0 };
  };

  const listNamespaces = async (dbs?: string[]): Promise<string[]> => {
    const names =
      dbs ??
      (await admin.admin().listDatabases({ nameOnly: true })).databases
        .map((d) => d.name)
        .filter((d) => routing.watchesDatabase(d));
    const out: string[] = [];
    for (const db of names) {
      if (!routing.watchesDatabase(db)) continue;
      const colls = await client.db(db).listCollections({}, { nameOnly: true }).toArray();
      for (const c of colls) {
        if ((c as { type?: string }).type === 'view') continue;
        if (routing.route(db, c.name)) out.push(`${db}.${c.name}`);
      }
    }
    return out.sort();
  };

  const splitNs = (ns: string): { db: string; coll: string } => {
    const dot = ns.indexOf('.');
    return { db: ns.slice(0, dot), coll: ns.slice(dot + 1) };
  };

  /** Copies existing documents; every copied one carries the snapshot's progress. */
  const runSnapshot = async (
    key: string,
    tracker: StreamTracker,
    time: { t: number; i: number },
    start: SnapshotProgress,
  ): Promise<boolean> => {
    let progress = start;
    log.info({ stream: key, namespaces: progress.remaining.length }, 'snapshot started');
    while (progress.remaining.length > 0) {
      const nsName = progress.remaining[0] as string;
      const ns = splitNs(nsName);
      const pipeline = routing.route(ns.db, ns.coll);
      const filter: Document =
        progress.afterId === undefined
          ? {}
          : { _id: { $gt: BSON.EJSON.parse(progress.afterId, { relaxed: false }) as unknown } };
      const cursor = client
        .db(ns.db)
        .collection(ns.coll)
        .find(filter, MESSAGE_READ_OPTIONS)
        .sort({ _id: 1 })
        .batchSize(1000);
      try {
        for await (const doc of cursor) {
          if (signal.aborted) return false;
          await deliverer.waitForCapacity();
          progress = { ...progress, afterId: ejsonString(doc._id) };
          const change = fromSnapshotDocument(
            doc,
            ns,
            key,
            { time, snapshot: progress },
            progress.id,
          );
          if (pipeline) deliverer.dispatch(change, pipeline, tracker);
          else tracker.pushDone(change.point);
        }
      } finally {
        await cursor.close().catch(() => undefined);
      }
      const rest = progress.remaining.slice(1);
      progress = { id: progress.id, remaining: rest };
      tracker.pushDone(rest.length > 0 ? { time, snapshot: progress } : { time });
    }
    log.info({ stream: key }, 'snapshot copied; streaming');
    return true;
  };

  const newSnapshot = async (spec: StreamSpec, time: { t: number; i: number }) => ({
    id: hashKey(spec.key, String(time.t), String(time.i), String(Date.now())),
    remaining: await spec.namespaces(),
  });

  /**
   * Reads one change stream until stopped. `startTime` is where a stream without a
   * checkpoint begins; that start point is stored before anything else happens.
   */
  const runStream = async (
    spec: StreamSpec,
    startTime: { t: number; i: number } | undefined,
    snapshotIfNew: boolean,
    initialized: () => void,
  ): Promise<void> => {
    let cp: ResumePoint | undefined = await state.loadCheckpoint(spec.key);
    if (!cp) {
      const time = startTime ?? (await serverTime());
      cp = {
        time,
        ...(snapshotIfNew && config.snapshot === 'initial'
          ? { snapshot: await newSnapshot(spec, time) }
          : {}),
      };
      await state.saveCheckpoint({ ...cp, streamKey: spec.key, updatedAt: new Date() });
    }
    initialized();
    const tracker = deliverer.tracker(spec.key, cp);
    metrics.streams++;
    try {
      let resume: ResumePoint = cp.token
        ? { token: cp.token }
        : { time: cp.time ?? (await serverTime()) };
      if (cp.snapshot && cp.time) {
        if (!(await runSnapshot(spec.key, tracker, cp.time, cp.snapshot))) return;
      }
      let failures = 0;
      let lastHeartbeat = Date.now();
      while (!signal.aborted) {
        const opts: ChangeStreamOptions = {
          ...baseOptions,
          ...(resume.token
            ? { startAfter: resume.token }
            : { startAtOperationTime: toTimestamp(resume.time ?? { t: 0, i: 0 }) }),
        };
        const stream = spec.open(opts);
        openStreams.add(stream);
        try {
          while (!signal.aborted) {
            const full = deliverer.waitForCapacity();
            if (full) await full;
            const doc: ChangeStreamDocument | null = await stream.tryNext();
            if (signal.aborted) break;
            failures = 0;
            if (doc === null) {
              // Idle: the post-batch resume token moves past changes of other collections
              // (and time), so an idle stream's checkpoint never falls off the oplog. A server
              // without one (the stand-in) keeps the last change's token; its oplog is never
              // trimmed. A clock-based point would be unsafe: an empty batch does not prove
              // the stream has caught up.
              const pbrt = stream.resumeToken as Document | null;
              if (pbrt && (!resume.token || ejsonString(pbrt) !== ejsonString(resume.token))) {
                resume = { token: pbrt };
                if (Date.now() - lastHeartbeat >= ctx.heartbeatMs || tracker.pending() === 0) {
                  tracker.pushDone(resume);
                  lastHeartbeat = Date.now();
                }
              }
              continue;
            }
            const change = fromMongoChange(doc, spec.key);
            resume = { token: doc._id as Document };
            if (doc.operationType === 'invalidate') {
              tracker.pushDone(resume);
              break;
            }
            const pipeline = routing.route(change.message.ns.db, change.message.ns.coll);
            if (pipeline) deliverer.dispatch(change, pipeline, tracker);
            else tracker.pushDone(change.point);
          }
        } catch (error) {
          if (signal.aborted) break;
          if (isHistoryLost(error)) {
            metrics.historyLost++;
            const policy = config.onHistoryLost ?? 'fail';
            if (policy === 'fail') throw new HistoryLostError(spec.key, error);
            const time = await serverTime();
            log.warn(
              { stream: spec.key, policy, error: errorMessage(error) },
              policy === 'skip'
                ? 'resume point fell off the oplog; continuing from now (changes in between are lost)'
                : 'resume point fell off the oplog; copying every document again',
            );
            resume = { time };
            if (policy === 'resnapshot') {
              const snapshot = await newSnapshot(spec, time);
              tracker.pushDone({ time, snapshot });
              if (!(await runSnapshot(spec.key, tracker, time, snapshot))) return;
            } else tracker.pushDone(resume);
            continue;
          }
          failures++;
          metrics.streamErrors++;
          if (failures >= 5 && !isNetworkError(error)) {
            throw new EventloomError(
              'SUBSCRIPTION_STOPPED',
              `relay stream ${spec.key} failed ${failures} times in a row: ${errorMessage(
                error,
              )}. If the checkpoint comes from another server, delete the relay's checkpoints (state database) and restart`,
              { cause: error, details: { stream: spec.key } },
            );
          }
          const delayMs = backoffDelay(failures, { initialDelayMs: 200, maxDelayMs: 10_000 });
          log.warn(
            {
              stream: spec.key,
              attempt: failures,
              delayMs,
              error: errorMessage(error),
            },
            'change stream failed; reopening',
          );
          await sleep(delayMs, signal);
        } finally {
          openStreams.delete(stream);
          await stream.close().catch(() => undefined);
        }
      }
    } finally {
      metrics.streams--;
    }
  };

  const launch = (
    spec: StreamSpec,
    startTime: { t: number; i: number } | undefined,
    snapshotIfNew: boolean,
  ): Promise<void> => {
    let ready!: () => void;
    const initialized = new Promise<void>((resolve) => {
      ready = resolve;
    });
    const run = runStream(spec, startTime, snapshotIfNew, ready).catch((error: unknown) => {
      ready();
      // After a stop, reads fail because the client was closed: that is no failure.
      if (!signal.aborted) failure?.(error);
    });
    runners.push(run);
    return Promise.race([initialized, run]);
  };

  const collectionSpec = (ns: string): StreamSpec => {
    const { db, coll } = splitNs(ns);
    return {
      key: `coll:${ns}`,
      open: (o) => client.db(db).collection(coll).watch([], o),
      namespaces: async () => [ns],
    };
  };

  if (mode === 'deployment') {
    await launch(
      { key: 'deployment', open: (o) => client.watch([], o), namespaces: () => listNamespaces() },
      undefined,
      true,
    );
  } else if (mode === 'database') {
    const dbs = routing.exactDatabases();
    if (!dbs) {
      throw new EventloomError(
        'CONFIGURATION',
        "source.mongodb.watch: 'database' needs databases named exactly (no /regex/, not omitted); use 'deployment' or 'auto'",
      );
    }
    for (const db of dbs) {
      await launch(
        {
          key: `db:${db}`,
          open: (o) => client.db(db).watch([], o),
          namespaces: () => listNamespaces([db]),
        },
        undefined,
        true,
      );
    }
  } else {
    runners.push(
      discover(config.discoveryIntervalMs ?? 2000).catch((error: unknown) => {
        if (!signal.aborted) failure?.(error);
      }),
    );
  }

  async function discover(intervalMs: number): Promise<void> {
    const running = new Set<string>();
    const previousRun = await state.loadCheckpoint('$discovery');
    let previousRound = previousRun?.time;
    const firstEver = previousRun === undefined;
    let first = true;
    while (!signal.aborted) {
      const roundTime = await serverTime();
      const found = new Set<string>();
      try {
        const exact = routing.exactDatabases();
        for (const ns of await listNamespaces(exact)) found.add(ns);
        for (const db of exact ?? []) {
          for (const coll of routing.exactCollections(db) ?? []) {
            if (routing.route(db, coll)) found.add(`${db}.${coll}`);
          }
        }
      } catch (error) {
        if (signal.aborted) break;
        log.warn({ error: errorMessage(error) }, 'listing collections failed; retrying');
        await sleep(intervalMs, signal);
        continue;
      }
      const starts: Promise<void>[] = [];
      for (const ns of found) {
        if (running.has(ns) || signal.aborted) continue;
        running.add(ns);
        // A collection first seen now was created after the previous listing began.
        const start = first ? (previousRound ?? roundTime) : previousRound;
        if (!first) log.info({ ns }, 'new collection; watching it');
        starts.push(launch(collectionSpec(ns), start, first && firstEver));
      }
      await Promise.all(starts);
      if (signal.aborted) break;
      await state.saveCheckpoint({
        streamKey: '$discovery',
        time: roundTime,
        updatedAt: new Date(),
      });
      previousRound = roundTime;
      first = false;
      await sleep(intervalMs, signal);
    }
  }

  const all = (async () => {
    // Runners may be added while waiting (discovery): wait until the set is stable.
    let seen = -1;
    while (seen !== runners.length) {
      seen = runners.length;
      await Promise.race([Promise.all(runners), failed]);
    }
  })();
  all.catch(() => undefined);

  return {
    done: all,
    async stop() {
      onStop();
      // A bounded wait whose timer goes away with it: a pending timer would keep the process
      // alive for its full length after everything else has shut down.
      const waited = new AbortController();
      await Promise.race([all.catch(() => undefined), sleep(5000, waited.signal)]);
      waited.abort();
    },
    async close() {
      signal.removeEventListener('abort', onStop);
      await closeClient();
    },
  };
}
