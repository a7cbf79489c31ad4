import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MongoClient } from 'mongodb';
import { vi } from 'vitest';
import { MONGODB_URL } from '../support/services.js';

export interface Received {
  key: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
  raw: string;
  at: number;
  /** The status the receiver answered. */
  status: number;
}

/**
 * A real webhook receiver on 127.0.0.1 (random port). `respond` decides the status per
 * request (default 204); `down()` closes the socket so senders get ECONNREFUSED, `up()`
 * listens on the same port again.
 */
export interface Receiver {
  readonly url: string;
  readonly port: number;
  /** Requests the receiver acknowledged (2xx). */
  readonly received: Received[];
  /** Every request, whatever the answer. */
  readonly attempts: Received[];
  respond: (body: Record<string, unknown>) => number;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
  /** Distinct idempotency keys seen. */
  keys(): Set<string>;
  waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void>;
}

export async function startReceiver(port = 0): Promise<Receiver> {
  const received: Received[] = [];
  const attempts: Received[] = [];
  let server: Server | undefined;
  const handler: Parameters<typeof createServer>[1] = (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        // keep {}
      }
      const status = receiver.respond(body);
      const request: Received = {
        key: String(req.headers['idempotency-key'] ?? ''),
        headers: req.headers,
        body,
        raw,
        at: Date.now(),
        status,
      };
      attempts.push(request);
      if (status >= 200 && status < 300) received.push(request);
      res.writeHead(status).end();
    });
  };
  const listen = async (p: number): Promise<number> => {
    server = createServer(handler);
    server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(p, '127.0.0.1', () => resolve());
    });
    return (server.address() as AddressInfo).port;
  };
  const actualPort = await listen(port);
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      if (!server) return resolve();
      const s = server;
      server = undefined;
      s.closeAllConnections();
      s.close(() => resolve());
    });
  const receiver: Receiver = {
    url: `http://127.0.0.1:${actualPort}/hook`,
    port: actualPort,
    received,
    attempts,
    respond: () => 204,
    down: stop,
    async up() {
      await listen(actualPort);
    },
    close: stop,
    keys: () => new Set(received.map((r) => r.key)),
    async waitFor(predicate, timeoutMs, what) {
      await vi.waitFor(
        () => {
          if (!predicate()) throw new Error(`still waiting for ${what}`);
        },
        { timeout: timeoutMs, interval: 50 },
      );
    },
  };
  return receiver;
}

export const sleepMs = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A relay source watching the `items` collection of database `db`, quick to notice it. */
export function itemsSource(db: string): Record<string, unknown> {
  return {
    mongodb: {
      url: MONGODB_URL,
      databases: { [db]: { collections: ['items'] } },
      discoveryIntervalMs: 500,
      maxAwaitTimeMS: 200,
    },
  };
}

/** Removes the checkpoints, dead letters and lease of these relays (default state database). */
export async function removeRelayState(
  client: MongoClient,
  relays: readonly string[],
): Promise<void> {
  const state = client.db('eventloom_relay');
  for (const relay of relays) {
    for (const coll of ['checkpoints', 'dead_letters'])
      await state.collection(coll).deleteMany({ relay });
    await state.collection<{ _id: string }>('leases').deleteOne({ _id: relay });
  }
}

const noop = (): void => undefined;
/** A relay logger that prints nothing. */
export const silentLog = {
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child() {
    return silentLog;
  },
};
