import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { noopLogger } from '../../src/core/logger.js';
import type { RelayChange } from '../../src/relay/relayChange.js';
import type { StepConfig } from '../../src/relay/relayConfig.js';
import { Deliverer, StreamTracker } from '../../src/relay/relayDelivery.js';
import { RelayMetrics } from '../../src/relay/relayMetrics.js';
import { PipelineFactory } from '../../src/relay/relayPipeline.js';
import { createSqliteRelayState } from '../../src/relay/relaySqliteState.js';
import type { RelayStateStore } from '../../src/relay/relayStateStore.js';

const original = () => ({
  id: 'k1',
  operationType: 'insert',
  ns: { db: 'shop', coll: 'orders' },
  documentKey: { _id: 7 },
  fullDocument: { _id: 7, status: 'paid', password: 'x', lines: [{ sku: 'a' }] },
});

describe('deliverer', () => {
  let dir: string;
  let state: RelayStateStore;
  let factory: PipelineFactory;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'eventloom-deliverer-'));
    state = await createSqliteRelayState({ path: join(dir, 'state.db'), relay: 'r' });
    // A custom step that changes what it is given in place, then refuses the change for good.
    await writeFile(
      join(dir, 'mangle.mjs'),
      `export default () => (message) => {
        message.fullDocument.status = 'mangled';
        message.fullDocument.lines.push({ sku: 'z' });
        const error = new Error('refused');
        error.retryable = false;
        throw error;
      };`,
    );
    factory = new PipelineFactory({ baseDir: dir, log: noopLogger });
  });
  afterEach(async () => {
    await factory.close();
    await state.close();
    await rm(dir, { recursive: true, force: true });
  });

  const deliverOne = async (steps: StepConfig[]) => {
    const pipeline = await factory.build(steps, 'pipeline');
    const deliverer = new Deliverer({
      relay: 'r',
      state,
      metrics: new RelayMetrics('r'),
      log: noopLogger,
      maxInFlight: 10,
      hardStop: new AbortController().signal,
    });
    const change: RelayChange = {
      key: 'k1',
      orderingKey: 'shop.orders:7',
      streamKey: 's',
      point: { position: 1 },
      sourceTimeMs: undefined,
      message: original(),
    };
    const outcome = await deliverer.deliver(change, pipeline);
    return { outcome, change, deadLetters: await state.listDeadLetters() };
  };

  it('dead-letters the change as it arrived, even after steps changed their message in place', async () => {
    const { outcome, change, deadLetters } = await deliverOne([
      { filter: { operationType: 'insert' } },
      { map: { omit: ['fullDocument.password'], set: { 'fullDocument.tag': 'x' } } },
      { custom: { module: './mangle.mjs' } },
    ]);
    expect(outcome).toBe('dead-lettered');
    expect(change.message).toEqual(original());
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0]?.message).toEqual(original());
  });

  it('a burst with one poison change: the others arrive in order per document, and the checkpoint never passes an unfinished change', async () => {
    // The sink holds A's first change until released, refuses C for good, records the rest.
    await writeFile(
      join(dir, 'sink.mjs'),
      `export default () => async (message) => {
        const doc = message.fullDocument;
        if (doc.hold) await globalThis.__relayGate;
        if (doc.poison) {
          const error = new Error('poison');
          error.retryable = false;
          throw error;
        }
        globalThis.__relayDelivered.push(doc._id + ':' + doc.v);
      };`,
    );
    let release!: () => void;
    const scope = globalThis as { __relayGate?: Promise<void>; __relayDelivered?: string[] };
    scope.__relayGate = new Promise<void>((resolve) => (release = resolve));
    scope.__relayDelivered = [];
    const pipeline = await factory.build(
      [{ filter: { operationType: 'insert' } }, { custom: { module: './sink.mjs' } }],
      'pipeline',
    );
    const metrics = new RelayMetrics('r');
    const deliverer = new Deliverer({
      relay: 'r',
      state,
      metrics,
      log: noopLogger,
      maxInFlight: 100,
      hardStop: new AbortController().signal,
    });
    const tracker = new StreamTracker('s', { position: 0 });
    const burst: [id: string, v: number, extra?: Record<string, unknown>, op?: string][] = [
      ['A', 1, { hold: true }],
      ['B', 1],
      ['A', 2],
      ['C', 1, { poison: true }],
      ['D', 1, {}, 'delete'],
      ['B', 2],
      ['A', 3],
    ];
    for (const [i, [id, v, extra, op]] of burst.entries()) {
      deliverer.dispatch(
        {
          key: `k${i + 1}`,
          orderingKey: `shop.orders:${id}`,
          streamKey: 's',
          point: { position: i + 1 },
          sourceTimeMs: undefined,
          message: {
            id: `k${i + 1}`,
            operationType: op ?? 'insert',
            ns: { db: 'shop', coll: 'orders' },
            documentKey: { _id: id },
            fullDocument: { _id: id, v, ...extra },
          },
        },
        pipeline,
        tracker,
      );
    }
    await vi.waitFor(async () => {
      expect(scope.__relayDelivered).toEqual(['B:1', 'B:2']);
      expect(await state.listDeadLetters()).toHaveLength(1);
    });
    // A:1 is still out: nothing past it may be checkpointed, and A's later changes wait.
    expect(tracker.committed).toEqual({ position: 0 });
    expect(deliverer.inFlight).toBe(3);
    release();
    expect(await deliverer.drain(10_000)).toBe(true);
    expect(scope.__relayDelivered).toEqual(['B:1', 'B:2', 'A:1', 'A:2', 'A:3']);
    expect(tracker.committed).toEqual({ position: 7 });
    expect(tracker.pending()).toBe(0);
    const [dead] = await state.listDeadLetters();
    expect(dead).toMatchObject({ key: 'k4', orderingKey: 'shop.orders:C', reason: 'poison' });
    expect(metrics).toMatchObject({ processed: 5, filtered: 1, deadLettered: 1, inFlight: 0 });
  });

  it('keeps the change as it arrived when the first step already changes its message', async () => {
    const { outcome, change, deadLetters } = await deliverOne([
      { custom: { module: './mangle.mjs' } },
    ]);
    expect(outcome).toBe('dead-lettered');
    expect(change.message).toEqual(original());
    expect(deadLetters[0]?.message).toEqual(original());
  });
});
