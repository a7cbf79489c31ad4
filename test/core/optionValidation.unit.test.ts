import { describe, expect, it } from 'vitest';
import { AggregateRoot, createAggregateRepository } from '../../src/core/aggregateRoot.js';
import { createCommandHandler } from '../../src/core/commandHandler.js';
import type { Decider } from '../../src/core/decider.js';
import { isValidationError, type ValidationError } from '../../src/core/errors.js';
import { createMemoryEventStore } from '../../src/core/memoryEventStore.js';
import { createMemorySnapshotStore } from '../../src/core/memorySnapshotStore.js';
import { rebuildProjection, startProjection } from '../../src/core/projections.js';
import type { Projection } from '../../src/core/readModel.js';

const store = createMemoryEventStore();
const target = store.documents.target;
const projection: Projection = { name: 'p', collections: ['p'], handle: () => undefined };

/** The error `call` throws synchronously (never a rejected promise). */
function thrownBy(call: () => unknown): ValidationError {
  let error: unknown;
  try {
    call();
  } catch (e) {
    error = e;
  }
  expect(isValidationError(error), `expected a ValidationError, got ${String(error)}`).toBe(true);
  return error as ValidationError;
}

type Case = [path: string, options: Record<string, unknown>, message: RegExp];

describe('startProjection options', () => {
  const base = { store, projection, target };
  const cases: Case[] = [
    ['options.batchSize', { batchSize: 0 }, /integer between 1 and/],
    ['options.batchSize', { batchSize: 1.5 }, /integer between 1 and/],
    ['options.from', { from: 'beginning' }, /'start', 'end' or a position/],
    ['options.retry.maxAttempts', { retry: { maxAttempts: -1 } }, /integer >= 1/],
    ['options.onPoison', { onPoison: 'ignore' }, /'park', 'stop'/],
    ['options.checkpointIntervalMs', { checkpointIntervalMs: 0.5 }, /integer >= 0/],
    ['options.pollIntervalMs', { pollIntervalMs: 0 }, /integer >= 1/],
    ['options.pollIntervalMs', { pollIntervalMs: 2 ** 31 }, /at most 2147483647 ms/],
    ['options.onEvent', { onEvent: 42 }, /must be a function/],
    ['options.name', { name: 'other' }, /not an option here/],
    ['options.store', { store: undefined }, /must be an object/],
    ['options.target.commit', { target: { loadCheckpoint: () => 0 } }, /must be a function/],
    ['options.projection.name', { projection: { ...projection, name: '' } }, /non-empty string/],
    [
      'options.projection.name',
      { projection: { ...projection, name: 'p\uDBFF' } },
      /lone surrogate/,
    ],
    [
      'options.projection(p).collections',
      { projection: { ...projection, collections: 'p' } },
      /must list the collections/,
    ],
    [
      'options.projection(p).eventTypes',
      { projection: { ...projection, eventTypes: [1] } },
      /array of event type names/,
    ],
    ['options.projection(p).handle', { projection: { ...projection, handle: 1 } }, /function/],
  ];
  it.each(cases)('rejects a bad %s at the call, naming it (%o)', (path, override, message) => {
    const error = thrownBy(() => startProjection({ ...base, ...override }));
    expect(error.path).toBe(path);
    expect(error.message).toMatch(message);
  });
});

describe('rebuildProjection options', () => {
  const base = { store, projection, target };
  const cases: Case[] = [
    ['options.batchSize', { batchSize: 0 }, /integer between 1 and/],
    ['options.batchSize', { batchSize: 2.5 }, /integer between 1 and/],
    ['options.onProgress', { onProgress: 'log' }, /must be a function/],
    ['options.batchsize', { batchsize: 10 }, /not an option here/],
    ['options.target.reset', { target: { loadCheckpoint: () => 0, commit: () => 0 } }, /function/],
  ];
  it.each(cases)(
    'rejects a bad %s synchronously, before emptying anything (%o)',
    (path, override, message) => {
      const error = thrownBy(() => rebuildProjection({ ...base, ...override }));
      expect(error.path).toBe(path);
      expect(error.message).toMatch(message);
    },
  );
});

type Counted = { type: 'Counted'; data: { n: number } };
const counter: Decider<number, { type: 'Count' }, Counted> = {
  initialState: () => 0,
  evolve: (s) => s + 1,
  decide: (_c, s) => ({ type: 'Counted', data: { n: s + 1 } }),
};

describe('createCommandHandler options', () => {
  const base = { store, decider: counter };
  const cases: Case[] = [
    [
      'options.decider.evolve',
      { decider: { initialState: () => 0, decide: () => [] } },
      /function/,
    ],
    [
      'options.store.streamInfo',
      { store: { appendToStream: () => 0, readStream: () => [] } },
      /function/,
    ],
    ['options.retry', { retry: 5 }, /must be an object/],
    ['options.retry.maxAttempts', { retry: { maxAttempts: 0 } }, /integer >= 1/],
    ['options.retry.maxattempts', { retry: { maxattempts: 3 } }, /not an option here/],
    [
      'options.snapshots.every',
      { snapshots: { store: createMemorySnapshotStore() } },
      /integer >= 1/,
    ],
    ['options.snapshots.store', { snapshots: { every: 10 } }, /must be an object/],
    [
      'options.snapshots.onSnapshotError',
      { snapshots: { store: createMemorySnapshotStore(), every: 5, onSnapshotError: 'warn' } },
      /must be a function/,
    ],
    ['options.snapshot', { snapshot: { every: 10 } }, /not an option here/],
  ];
  it.each(cases)('rejects a bad %s at the call, naming it (%o)', (path, override, message) => {
    const error = thrownBy(() => createCommandHandler({ ...base, ...override }));
    expect(error.path).toBe(path);
    expect(error.message).toMatch(message);
  });
});

class Thing extends AggregateRoot<Counted> {
  protected override apply(): void {}
}

describe('createAggregateRepository options', () => {
  const base = {
    store,
    streamId: (id: string) => `thing-${id}`,
    create: (id: string) => new Thing(id),
  };
  const cases: Case[] = [
    ['options.streamId', { streamId: 'thing' }, /must be a function/],
    ['options.create', { create: undefined }, /must be a function/],
    [
      'options.snapshots.toSnapshot',
      { snapshots: { store: createMemorySnapshotStore(), every: 5, fromSnapshot: () => null } },
      /must be a function/,
    ],
    ['options.retry.initialDelayMs', { retry: { initialDelayMs: -1 } }, /integer >= 0/],
  ];
  it.each(cases)('rejects a bad %s at the call, naming it (%o)', (path, override, message) => {
    const error = thrownBy(() => createAggregateRepository({ ...base, ...override }));
    expect(error.path).toBe(path);
    expect(error.message).toMatch(message);
  });
});
