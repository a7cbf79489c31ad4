/**
 * Tracing, for every store: an append stores the W3C trace context of its span in each
 * event's metadata, and a subscription delivering the event continues that trace. Registers
 * an OpenTelemetry SDK with an in-memory exporter for its own block only.
 */
import { SpanKind, trace } from '@opentelemetry/api';
import { describe, expect, it, vi } from 'vitest';
import { parseTraceparent, tracer } from '../../src/core/tracing.js';
import type { EventStore, SubscriptionNotice } from '../../src/core/types.js';
import { useTestTracing } from '../support/tracing.js';
import { type ContractHarness, ev, freshStores } from './eventStoreContract.js';

const uid = (prefix: string): string => `${prefix}-${Math.random().toString(36).slice(2, 10)}`;

/**
 * Delivers the store's events to a subscription until `count` arrived: the trace ids seen,
 * and the subscription's notices.
 */
async function delivered(
  store: EventStore,
  count: number,
): Promise<{ traceIds: string[]; notices: SubscriptionNotice[] }> {
  const traceIds: string[] = [];
  const notices: SubscriptionNotice[] = [];
  const sub = store.subscribe({
    name: uid('traced'),
    handler: () => void traceIds.push(trace.getActiveSpan()?.spanContext().traceId ?? 'none'),
    onEvent: (notice) => void notices.push(notice),
  });
  await vi.waitFor(() => expect(traceIds).toHaveLength(count));
  await sub.stop();
  return { traceIds, notices };
}

const deliveredTraceIds = async (store: EventStore, count: number): Promise<string[]> =>
  (await delivered(store, count)).traceIds;

/** Appends one event whose metadata has a malformed traceparent. */
const appendMalformed = (store: EventStore, streamId: string) =>
  store.appendToStream(streamId, [
    { type: 'A', data: {}, metadata: { traceparent: 'not-a-traceparent' } },
  ]);

const malformedNotices = (notices: SubscriptionNotice[]) =>
  notices.filter((n) => n.kind === 'malformed-traceparent');

export function tracingContract(name: string, harness: ContractHarness): void {
  describe(`tracing: ${name}`, () => {
    const { fresh } = freshStores(harness);

    it('stores no traceparent and records nothing without an OpenTelemetry SDK', async () => {
      const store = await fresh();
      const recording = await tracer.startActiveSpan('command', async (span) => {
        await store.appendToStream('untraced-1', [ev('Happened')]);
        span.end();
        return span.isRecording();
      });
      expect(recording).toBe(false);
      const [event] = await store.readStream('untraced-1');
      expect(event?.metadata).toEqual({});
      expect(await deliveredTraceIds(store, 1)).toEqual(['none']);
    });

    it('reports a malformed traceparent without an SDK too, and still delivers the event', async () => {
      const store = await fresh();
      await appendMalformed(store, 'untraced-2');
      const { traceIds, notices } = await delivered(store, 1);
      expect(traceIds).toEqual(['none']);
      expect(malformedNotices(notices)).toHaveLength(1);
    });

    describe('with an SDK registered', () => {
      const tracing = useTestTracing();

      it('appends in a client span under the caller, and stores that span as each event’s traceparent', async () => {
        const store = await fresh();
        tracing.reset();
        const command = await tracer.startActiveSpan('command', async (span) => {
          await store.appendToStream('traced-1', [ev('A'), ev('B')], {
            expectedVersion: 'no_stream',
          });
          span.end();
          return span.spanContext();
        });
        const [append] = tracing.spans('append');
        expect(append?.parentSpanContext?.spanId).toBe(command.spanId);
        expect(append?.spanContext().traceId).toBe(command.traceId);
        expect(append?.kind).toBe(SpanKind.CLIENT);
        expect(append?.attributes).toMatchObject({
          'db.operation.name': 'append',
          'eventloom.stream.id': 'traced-1',
          'eventloom.event.count': 2,
          'eventloom.next_expected_version': 2,
        });
        const events = await store.readStream('traced-1');
        const [read] = tracing.spans('read');
        expect(read?.attributes).toMatchObject({
          'db.system.name': append?.attributes['db.system.name'],
          'db.operation.name': 'read',
          'eventloom.stream.id': 'traced-1',
          'db.response.returned_rows': 2,
        });
        expect(['memory', 'sqlite', 'mongodb']).toContain(append?.attributes['db.system.name']);
        for (const event of events) {
          expect(parseTraceparent(event.metadata.traceparent)).toMatchObject({
            traceId: command.traceId,
            spanId: append?.spanContext().spanId,
          });
        }
      });

      it('keeps a traceparent the caller put in the metadata', async () => {
        const store = await fresh();
        const own = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
        await tracer.startActiveSpan('command', async (span) => {
          await store.appendToStream('traced-2', [
            { type: 'A', data: {}, metadata: { traceparent: own } },
          ]);
          span.end();
        });
        const [event] = await store.readStream('traced-2');
        expect(event?.metadata.traceparent).toBe(own);
      });

      it('delivers an event to a subscription in a consumer span of the trace that appended it', async () => {
        const store = await fresh();
        tracing.reset();
        const traceId = await tracer.startActiveSpan('command', async (span) => {
          await store.appendToStream('traced-3', [ev('A')]);
          span.end();
          return span.spanContext().traceId;
        });
        expect(await deliveredTraceIds(store, 1)).toEqual([traceId]);
        const [process] = tracing.spans().filter((s) => s.kind === SpanKind.CONSUMER);
        expect(process?.name).toMatch(/^process traced-/);
        expect(process?.attributes).toMatchObject({
          'messaging.operation.type': 'process',
          'eventloom.stream.id': 'traced-3',
          'eventloom.event.type': 'A',
        });
      });

      it('delivers an event appended outside any span in a trace of its own, not in the trace that started the subscription', async () => {
        const store = await fresh();
        await store.appendToStream('traced-5', [ev('A')]);
        const { startup, traceIds } = await tracer.startActiveSpan('startup', async (span) => {
          const { traceIds } = await delivered(store, 1);
          span.end();
          return { startup: span.spanContext().traceId, traceIds };
        });
        expect(traceIds[0]).toMatch(/^[0-9a-f]{32}$/);
        expect(traceIds[0]).not.toBe(startup);
      });

      it('delivers an event whose traceparent is malformed in a new trace instead of refusing it, and reports it', async () => {
        const store = await fresh();
        await appendMalformed(store, 'traced-4');
        const { traceIds, notices } = await delivered(store, 1);
        expect(traceIds[0]).toMatch(/^[0-9a-f]{32}$/);
        expect(traceIds[0]).not.toBe('0'.repeat(32));
        expect(malformedNotices(notices)).toEqual([
          expect.objectContaining({ eventId: expect.any(String) as unknown, position: 1 }),
        ]);
      });
    });
  });
}
