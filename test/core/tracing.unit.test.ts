import { context, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import {
  extractTraceparent,
  formatTraceparent,
  injectTraceparent,
  parseTraceparent,
  tracer,
} from '../../src/core/index.js';
import { createMemoryEventStore } from '../../src/core/memoryEventStore.js';
import { workflowInstancesProjection } from '../../src/core/workflowInspection.js';
import { runPaymentWithInstances } from '../support/paymentWorkflow.js';
import { useTestTracing } from '../support/tracing.js';

const VALID = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('parseTraceparent', () => {
  it('reads a W3C traceparent into a remote span context', () => {
    expect(parseTraceparent(VALID)).toEqual({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: 1,
      isRemote: true,
    });
    expect(formatTraceparent(parseTraceparent(VALID)!)).toBe(VALID);
  });

  it.each([
    ['not a traceparent'],
    ['00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331'],
    ['00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01'],
    ['00-00000000000000000000000000000000-b7ad6b7169203331-01'],
    ['00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01'],
    ['ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'],
    [`${VALID}-extra`],
    [42],
  ])('rejects %j', (value) => {
    expect(parseTraceparent(value)).toBeUndefined();
  });

  it('accepts extra fields from a later version, as the W3C spec asks', () => {
    expect(parseTraceparent(`01-${VALID.slice(3)}-what-comes-next`)?.spanId).toBe(
      'b7ad6b7169203331',
    );
  });
});

describe('extractTraceparent', () => {
  it('tells an absent traceparent from a malformed one, and returns the root context for both', () => {
    expect(extractTraceparent({})).toMatchObject({ context: ROOT_CONTEXT, malformed: false });
    expect(extractTraceparent({ traceparent: 'garbage' })).toMatchObject({
      context: ROOT_CONTEXT,
      malformed: true,
    });
  });

  it('reads headers given as bytes and keeps the tracestate', () => {
    const found = extractTraceparent(
      new Map([
        ['traceparent', Buffer.from(VALID)],
        ['tracestate', Buffer.from('vendor=value')],
      ]),
    );
    expect(found.malformed).toBe(false);
    expect(trace.getSpanContext(found.context)?.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(found.spanContext?.traceState?.get('vendor')).toBe('value');
  });
});

describe('injectTraceparent', () => {
  it('writes nothing without an SDK registered, even inside a span', () => {
    const carrier: Record<string, unknown> = {};
    tracer.startActiveSpan('outside', (span) => {
      expect(injectTraceparent(carrier)).toBe(false);
      span.end();
    });
    expect(carrier).toEqual({});
  });

  describe('with an SDK registered', () => {
    useTestTracing();

    it('writes the active span as traceparent, and keeps one the caller set', () => {
      tracer.startActiveSpan('command', (span) => {
        const carrier: Record<string, unknown> = {};
        expect(injectTraceparent(carrier)).toBe(true);
        expect(carrier.traceparent).toBe(formatTraceparent(span.spanContext()));
        const own = { traceparent: VALID };
        expect(injectTraceparent(own)).toBe(false);
        expect(own.traceparent).toBe(VALID);
        span.end();
      });
      expect(injectTraceparent({}, context.active())).toBe(false);
    });
  });
});

describe('projections and workflows', () => {
  const tracing = useTestTracing();

  it('runs a workflow step and a projection over an event in the trace that appended it, and commits the read model in a span', async () => {
    const store = createMemoryEventStore();
    const { runner, projection, stop } = runPaymentWithInstances(store);
    try {
      const traceId = await tracer.startActiveSpan('command', async (span) => {
        await store.appendToStream('shop-a', [{ type: 'OrderPlaced', data: { orderId: 'a-1' } }]);
        span.end();
        return span.spanContext().traceId;
      });
      await runner.waitFor(await store.headPosition());
      await projection.waitFor(await store.headPosition());

      const [step] = tracing.spans('workflow step payment');
      expect(step?.spanContext().traceId).toBe(traceId);
      expect(step?.attributes).toMatchObject({
        'eventloom.workflow.instance_id': 'a-1',
        'eventloom.workflow.outcome': 'handled',
      });
      // The step's own record continues the same trace.
      const [record] = await store.readStream(`workflow-payment-a-1`);
      expect(parseTraceparent(record?.metadata.traceparent)?.traceId).toBe(traceId);
      const commits = tracing.spans(`commit ${workflowInstancesProjection().name}`);
      expect(commits.length).toBeGreaterThan(0);
      expect(commits.at(-1)?.attributes).toMatchObject({
        'eventloom.projection.name': workflowInstancesProjection().name,
        'eventloom.position': await store.headPosition(),
      });
    } finally {
      await stop();
    }
  });
});
