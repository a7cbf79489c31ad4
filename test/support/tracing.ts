import { context, propagation, trace } from '@opentelemetry/api';
import { afterAll, beforeAll } from 'vitest';
import {
  InMemorySpanExporter,
  NodeTracerProvider,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-node';

/** An OpenTelemetry SDK registered for one test file, exporting finished spans to memory. */
export interface TestTracing {
  /** Finished spans so far, optionally only those named `name`. */
  spans(name?: string): ReadableSpan[];
  reset(): void;
  /** Unregisters the SDK again (the API's globals outlive a test file in a worker). */
  shutdown(): Promise<void>;
}

/**
 * Registers a NodeTracerProvider (AsyncLocalStorage context manager, W3C propagator) with an
 * in-memory exporter. Call in `beforeAll`, and `shutdown` in `afterAll`.
 */
export function registerTestTracing(): TestTracing {
  disableTracing();
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  provider.register();
  return {
    spans: (name) =>
      exporter.getFinishedSpans().filter((s) => name === undefined || s.name === name),
    reset: () => exporter.reset(),
    shutdown: async () => {
      await provider.shutdown();
      disableTracing();
    },
  };
}

/** Removes any registered SDK: the API falls back to its no-ops. */
export function disableTracing(): void {
  trace.disable();
  context.disable();
  propagation.disable();
}

/**
 * Registers the test SDK for the enclosing `describe` (before its first test, removed after
 * its last); the returned object forwards to it.
 */
export function useTestTracing(): TestTracing {
  let tracing: TestTracing | undefined;
  beforeAll(() => {
    tracing = registerTestTracing();
  });
  afterAll(() => tracing?.shutdown());
  const current = (): TestTracing => {
    if (tracing === undefined)
      throw new Error('useTestTracing: the SDK is registered in beforeAll');
    return tracing;
  };
  return {
    spans: (name) => current().spans(name),
    reset: () => current().reset(),
    shutdown: () => current().shutdown(),
  };
}
