/**
 * Trace context through the relay: an Eventloom event's traceparent (stored at append) is
 * continued by the change's span and carried by the webhook it becomes, over a real socket.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpanKind } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTraceparent, tracer } from '../../src/core/tracing.js';
import { parseRelayConfig } from '../../src/relay/parseRelayConfig.js';
import { startRelay } from '../../src/relay/relayRunner.js';
import { createSqliteEventStore } from '../../src/sqlite/sqliteEventStore.js';
import { useTestTracing } from '../support/tracing.js';
import { type Receiver, silentLog, startReceiver } from './relayTestKit.js';

const VALID = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('tracing through the relay', () => {
  const dir = mkdtempSync(join(tmpdir(), 'relay-tracing-'));
  let receiver: Receiver;
  let n = 0;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Relays every event of a fresh SQLite store, written by `write`, to the receiver. */
  async function relay(
    write: (store: ReturnType<typeof createSqliteEventStore>) => Promise<unknown>,
  ) {
    const path = join(dir, `events-${n++}.db`);
    const store = createSqliteEventStore({ path });
    await write(store);
    const count = (await store.readAll()).length;
    receiver.received.length = 0;
    const handle = await startRelay(
      parseRelayConfig({
        name: `relay-tracing-${n}`,
        source: { eventloom: { store: path } },
        pipeline: [{ http: { url: receiver.url, retry: { initialDelayMs: 5, maxDelayMs: 10 } } }],
        server: false,
      }),
      { log: silentLog },
    );
    try {
      await receiver.waitFor(() => receiver.received.length >= count, 10_000, 'every event');
    } finally {
      await handle.stop();
      await store.close();
    }
    return handle;
  }

  it('passes an event’s traceparent on to its webhook without an SDK registered', async () => {
    await relay((store) =>
      store.appendToStream('order-1', [
        { type: 'OrderPlaced', data: {}, metadata: { traceparent: VALID } },
      ]),
    );
    expect(receiver.received[0]?.headers.traceparent).toBe(VALID);
  });

  describe('with an SDK registered', () => {
    const tracing = useTestTracing();

    it('delivers a change in a span of the trace that appended the event, retries visible, and the webhook carries that trace', async () => {
      let failFirst = true;
      receiver.respond = () => (failFirst ? ((failFirst = false), 503) : 204);
      let traceId = '';
      await relay((store) =>
        tracer.startActiveSpan('command', async (span) => {
          traceId = span.spanContext().traceId;
          await store.appendToStream('order-2', [{ type: 'OrderPlaced', data: {} }]);
          span.end();
        }),
      );
      receiver.respond = () => 204;
      const header = receiver.received[0]?.headers.traceparent;
      expect(parseTraceparent(header)?.traceId).toBe(traceId);
      const [change] = tracing.spans('relay change');
      expect(change?.kind).toBe(SpanKind.CONSUMER);
      expect(change?.spanContext().traceId).toBe(traceId);
      expect(change?.attributes).toMatchObject({ 'eventloom.outcome': 'delivered' });
      const step = tracing.spans().find((s) => s.name.startsWith('relay step'));
      expect(step?.parentSpanContext?.spanId).toBe(change?.spanContext().spanId);
      expect(step?.events.map((e) => [e.name, e.attributes?.['eventloom.attempt']])).toEqual([
        ['step failed', 1],
      ]);
      // The webhook names the step's span: the receiver's work hangs under the delivery.
      expect(parseTraceparent(header)?.spanId).toBe(step?.spanContext().spanId);
    });

    it('delivers an event whose traceparent is malformed in a new trace, and counts it', async () => {
      tracing.reset();
      const handle = await relay((store) =>
        store.appendToStream('order-3', [
          { type: 'OrderPlaced', data: {}, metadata: { traceparent: 'garbage' } },
        ]),
      );
      const [change] = tracing.spans('relay change');
      expect(change?.parentSpanContext).toBeUndefined();
      expect(parseTraceparent(receiver.received[0]?.headers.traceparent)?.traceId).toBe(
        change?.spanContext().traceId,
      );
      expect(handle.metrics.malformedTraceparent).toBe(1);
    });
  });
});
