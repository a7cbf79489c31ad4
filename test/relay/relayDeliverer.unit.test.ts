import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { noopLogger } from '../../src/core/logger.js';
import type { RelayChange } from '../../src/relay/relayChange.js';
import type { StepConfig } from '../../src/relay/relayConfig.js';
import { Deliverer } from '../../src/relay/relayDelivery.js';
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

  it('keeps the change as it arrived when the first step already changes its message', async () => {
    const { outcome, change, deadLetters } = await deliverOne([
      { custom: { module: './mangle.mjs' } },
    ]);
    expect(outcome).toBe('dead-lettered');
    expect(change.message).toEqual(original());
    expect(deadLetters[0]?.message).toEqual(original());
  });
});
