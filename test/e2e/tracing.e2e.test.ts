// The built app, two workers and the relay as separate processes, each exporting OTLP/HTTP to
// a receiver in this test: one trace id spans the HTTP request, the append, the Kafka publish,
// the worker's consumption and the relay's webhook. Also: an unreachable collector costs
// commands nothing and its lost spans are counted.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startReceiver, type Receiver } from '../relay/relayTestKit.js';
import { type RelayProcess, spawnRelay, writeConfig } from '../relay/relayProcesses.js';
import { KAFKA_BROKERS, serviceAvailable, uniqueName } from '../support/services.js';
import {
  type EventloomProcess,
  startEventloom,
  startWorker,
  type WorkerProcess,
} from './eventloomProcess.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const available = await serviceAvailable('kafka');
const WAIT = { timeout: 60_000, interval: 200 };
const PASSWORD = 'correct horse battery';

interface ExportedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  links?: { traceId: string; spanId: string }[];
}

type AnyValue = { stringValue?: string };
interface OtlpJson {
  resourceSpans?: {
    resource?: { attributes?: { key: string; value: AnyValue }[] };
    scopeSpans?: { spans?: Omit<ExportedSpan, 'service'>[] }[];
  }[];
}

/** A local OTLP/HTTP trace receiver: POST /v1/traces with the JSON encoding. */
async function startCollector(): Promise<{
  url: string;
  spans: ExportedSpan[];
  close(): Promise<void>;
}> {
  const spans: ExportedSpan[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/traces') {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpJson;
        for (const rs of body.resourceSpans ?? []) {
          const service =
            rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
          for (const ss of rs.scopeSpans ?? []) {
            for (const s of ss.spans ?? []) spans.push({ ...s, service });
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on (taken, then released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The metric names the Grafana dashboard queries (histogram series by their base name). */
function dashboardMetrics(): string[] {
  const dashboard = JSON.parse(
    readFileSync(join(ROOT, 'docs', 'grafana', 'eventloom.json'), 'utf8'),
  ) as { panels: { targets: { expr: string }[] }[] };
  const names = dashboard.panels.flatMap((p) =>
    p.targets.flatMap((t) => t.expr.match(/\beventloom_[a-z_]+/g) ?? []),
  );
  return [...new Set(names.map((n) => n.replace(/_(bucket|count|sum)$/, '')))].sort();
}

const TRACE_ENV = {
  OTEL_TRACES_SAMPLER: 'always_on',
  OTEL_BSP_SCHEDULE_DELAY: '200',
  LOG_LEVEL: 'info',
};

describe.skipIf(!available)('one trace across the app, a worker and the relay', () => {
  const prefix = uniqueName('e2e-tracing');
  const folders: string[] = [];
  const workers: WorkerProcess[] = [];
  let collector: Awaited<ReturnType<typeof startCollector>>;
  let webhook: Receiver;
  let app: EventloomProcess | undefined;
  let relay: RelayProcess | undefined;
  let relayPort = 0;
  const common = () => ({
    KAFKA_BROKERS,
    KAFKA_TOPIC_PREFIX: prefix,
    OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
    ...TRACE_ENV,
  });
  const folder = async (): Promise<string> => {
    const dir = await mkdtemp(join(tmpdir(), 'eventloom-tracing-'));
    folders.push(dir);
    return dir;
  };

  beforeAll(async () => {
    collector = await startCollector();
    webhook = await startReceiver();
    const appData = await folder();
    app = await startEventloom({
      dataDir: appData,
      env: {
        ...common(),
        EVENTLOOM_SERVICES: 'workers',
        SEED_SAMPLE_DATA: 'false',
        EXPLORER_ACCESS: 'authenticated',
      },
    });
    for (const name of ['inventory', 'orders']) {
      workers.push(
        await startWorker(name, {
          ...common(),
          EVENTLOOM_DATA: await folder(),
          EVENTLOOM_KEY_STORE: join(appData, 'eventloom.db'),
        }),
      );
    }
    const config = writeConfig({
      name: uniqueName('tracing-relay'),
      source: { eventloom: { store: join(appData, 'eventloom.db') } },
      pipeline: [
        { filter: { 'event.type': 'OrderReserved' } },
        { http: { url: webhook.url, retry: { maxAttempts: 3 } } },
      ],
      state: { sqlite: { path: join(await folder(), 'relay-state.db') } },
      lease: { enabled: false },
      checkpoints: { intervalMs: 100 },
    });
    relayPort = await freePort();
    relay = spawnRelay(['--config', config, '--port', String(relayPort)], common(), {
      built: true,
    });
    await vi.waitFor(async () => {
      const health = await fetch(`http://127.0.0.1:${relayPort}/health`);
      if (health.status !== 200) throw new Error(`relay not ready:\n${relay?.output() ?? ''}`);
    }, WAIT);
  }, 180_000);

  afterAll(async () => {
    for (const worker of workers) await worker.kill('SIGTERM');
    await relay?.terminate();
    await app?.stop();
    await webhook?.close();
    await collector?.close();
    for (const dir of folders) await rm(dir, { recursive: true, force: true });
  });

  it('carries the caller’s trace id from the HTTP request through append, Kafka, the worker and the relay’s webhook', async () => {
    const username = uniqueName('tracer')
      .replace(/[^a-z0-9_]/gi, '_')
      .slice(0, 30);
    const auth = `Basic ${Buffer.from(`${username}:${PASSWORD}`).toString('base64')}`;
    const registered = await fetch(`${app!.url}/api/v1/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        username,
        email: `${username}@trace.test`,
        name: 'T',
        password: PASSWORD,
      }),
    });
    expect(registered.status, await registered.text()).toBe(201);
    const send = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${app!.url}${path}`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
    const product = await send('/api/shop/products', { name: 'Lamp', price_cents: 700, stock: 5 });
    expect(product.status, await product.clone().text()).toBe(201);
    const productId = ((await product.json()) as { product: { id: string } }).product.id;

    const traceId = '5c1e0b7a9d2f4e6a8b3c1d0e2f4a6b8c';
    const placed = await send(
      '/api/shop/orders',
      { items: [{ product_id: productId, quantity: 1 }] },
      { traceparent: `00-${traceId}-1a2b3c4d5e6f7081-01` },
    );
    expect(placed.status, await placed.clone().text()).toBe(201);
    const orderId = ((await placed.json()) as { order: { id: string } }).order.id;

    await webhook.waitFor(
      () =>
        webhook.received.some(
          (r) =>
            (r.body.event as { streamId?: string } | undefined)?.streamId === `order-${orderId}`,
        ),
      60_000,
      'the OrderReserved webhook',
    );
    const hook = webhook.received.find(
      (r) => (r.body.event as { streamId?: string }).streamId === `order-${orderId}`,
    )!;
    expect(String(hook.headers.traceparent)).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));

    const ofTrace = () => collector.spans.filter((s) => s.traceId === traceId);
    await expect
      .poll(() => [...new Set(ofTrace().map((s) => s.service))].sort(), WAIT)
      .toEqual([
        'eventloom-relay',
        'eventloom-start',
        'eventloom-worker-inventory',
        'eventloom-worker-orders',
      ]);
    const app_ = ofTrace().filter((s) => s.service === 'eventloom-start');
    // SERVER = 2, PRODUCER = 4, CONSUMER = 5 (OTLP's SpanKind numbering is one higher).
    expect(app_.find((s) => s.name === 'POST /api/shop/orders')?.kind).toBe(2);
    expect(app_.some((s) => s.name === 'append')).toBe(true);
    // Each published message has its own producer span (`create`) in the trace; the batch's
    // `send` span mixes traces, so it is a root linked to each message's.
    expect(
      ofTrace().some(
        (s) => s.service === 'eventloom-start' && s.kind === 4 && s.name.startsWith('create '),
      ),
    ).toBe(true);
    expect(
      collector.spans.some(
        (s) =>
          s.service === 'eventloom-start' &&
          s.kind === 4 &&
          (s.links ?? []).some((l) => l.traceId === traceId),
      ),
    ).toBe(true);
    expect(ofTrace().some((s) => s.service.startsWith('eventloom-worker') && s.kind === 5)).toBe(
      true,
    );
  }, 180_000);

  it('serves every metric the Grafana dashboard queries from the app’s or the relay’s /metrics', async () => {
    const scraped = [
      await (await fetch(`${app!.url}/metrics`)).text(),
      await (await fetch(`http://127.0.0.1:${relayPort}/metrics`)).text(),
    ].join('\n');
    const missing = dashboardMetrics().filter(
      (name) => !new RegExp(`^# TYPE ${name} `, 'm').test(scraped),
    );
    expect(dashboardMetrics().length).toBeGreaterThan(10);
    expect(missing).toEqual([]);
  });
});

describe('an unreachable OTLP endpoint', () => {
  let app: EventloomProcess | undefined;
  afterAll(async () => {
    await app?.stop();
  });

  it('answers every command while the lost spans are counted', async () => {
    app = await startEventloom({
      env: {
        ...TRACE_ENV,
        SEED_SAMPLE_DATA: 'false',
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${await freePort()}`,
        OTEL_BSP_MAX_QUEUE_SIZE: '4',
        OTEL_BSP_EXPORT_TIMEOUT: '1000',
        OTEL_EXPORTER_OTLP_TIMEOUT: '500',
      },
    });
    for (let i = 0; i < 20; i += 1) {
      const response = await fetch(`${app.url}/api/v1/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          username: `nocollector_${i}`,
          email: `nocollector_${i}@trace.test`,
          name: 'N',
          password: PASSWORD,
        }),
      });
      expect(response.status).toBe(201);
    }
    const dropped = async () => {
      const text = await (await fetch(`${app!.url}/metrics`)).text();
      return [...text.matchAll(/^eventloom_trace_spans_dropped_total\{[^}]*\} (\d+)/gm)].reduce(
        (sum, m) => sum + Number(m[1]),
        0,
      );
    };
    await expect.poll(dropped, WAIT).toBeGreaterThan(0);
  }, 120_000);
});
