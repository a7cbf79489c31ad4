import { INVALID_SPAN_CONTEXT, SpanKind, trace, type Span } from '@opentelemetry/api';
import type { Logger } from '../core/logger.js';
import { inSpan, tracingEnabled } from '../core/tracing.js';
import { backoffDelay, errorMessage, sleep } from '../core/async.js';
import type { RelayChange, ResumePoint } from './relayChange.js';
import { isRetryableStepFailure } from './relayErrors.js';
import type { RelayMetrics } from './relayMetrics.js';
import type { Pipeline } from './relayPipeline.js';
import type { RelayStep, RelayStepContext } from './relayStep.js';
import type { RelayStateStore } from './relayStateStore.js';

interface Entry {
  point: ResumePoint;
  done: boolean;
  sourceTimeMs: number | undefined;
  /** Settles when the change's delivery ended (set while it is in flight). */
  tail?: Promise<void>;
}

/**
 * Tracks one stream's changes in arrival order and yields the low-water mark: the resume
 * point of the last change such that it and every change before it were acknowledged.
 * Only that point is ever checkpointed, so concurrent deliveries never skip a change.
 */
export class StreamTracker {
  #entries: Entry[] = [];
  #head = 0;
  committed: ResumePoint | undefined;
  saved: ResumePoint | undefined;

  constructor(
    readonly streamKey: string,
    initial: ResumePoint | undefined,
  ) {
    this.committed = initial;
    this.saved = initial;
  }

  push(point: ResumePoint, sourceTimeMs?: number): Entry {
    const entry: Entry = { point, done: false, sourceTimeMs };
    this.#entries.push(entry);
    return entry;
  }

  /** A position that needs no delivery (heartbeat, ignored namespace). */
  pushDone(point: ResumePoint): void {
    if (this.pending() === 0) {
      this.committed = point;
      return;
    }
    this.#entries.push({ point, done: true, sourceTimeMs: undefined });
  }

  complete(entry: Entry): void {
    entry.done = true;
    while (this.#head < this.#entries.length && (this.#entries[this.#head] as Entry).done) {
      this.committed = (this.#entries[this.#head] as Entry).point;
      this.#head++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
  }

  pending(): number {
    return this.#entries.length - this.#head;
  }

  oldestPendingTime(): number | undefined {
    for (let i = this.#head; i < this.#entries.length; i++) {
      const e = this.#entries[i] as Entry;
      if (!e.done && e.sourceTimeMs !== undefined) return e.sourceTimeMs;
    }
    return undefined;
  }
}

/** A step's synchronous throw as the rejection an async step would have given (any value). */
const rejected = async (error: unknown): Promise<never> => {
  throw error;
};

/** A promise, or what `await` would treat as one (a custom step's own thenable). */
function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return (
    value instanceof Promise ||
    (value !== null &&
      typeof value === 'object' &&
      typeof (value as { then?: unknown }).then === 'function')
  );
}

export type DeliveryOutcome = 'delivered' | 'filtered' | 'dead-lettered';

export interface DelivererOptions {
  relay: string;
  state: RelayStateStore;
  metrics: RelayMetrics;
  log: Logger;
  maxInFlight: number;
  /** Aborts retries and sinks when graceful shutdown ran out of time. */
  hardStop: AbortSignal;
}

class Aborted extends Error {}

/** The span steps see when nothing is traced: never recording, so no event is built. */
const NOT_RECORDING: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/**
 * Runs changes through their pipelines: at most `maxInFlight` at once, changes with one
 * ordering key (one document) strictly one after the other, each step retried with
 * exponential backoff and jitter, and a change that exhausts its attempts parked in the
 * dead-letter store with the reason — after which it counts as handled.
 */
export class Deliverer {
  #inFlight = 0;
  /** The last change in flight of each ordering key (document). */
  #tails = new Map<string, Entry>();
  #capacity: (() => void)[] = [];
  #idle: (() => void)[] = [];
  readonly trackers = new Map<string, StreamTracker>();

  constructor(private readonly options: DelivererOptions) {
    options.metrics.oldestInFlightMs = () => {
      let oldest: number | undefined;
      for (const t of this.trackers.values()) {
        const o = t.oldestPendingTime();
        if (o !== undefined && (oldest === undefined || o < oldest)) oldest = o;
      }
      return oldest;
    };
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  tracker(streamKey: string, initial: ResumePoint | undefined): StreamTracker {
    let t = this.trackers.get(streamKey);
    if (!t) {
      t = new StreamTracker(streamKey, initial);
      this.trackers.set(streamKey, t);
    }
    return t;
  }

  /** Resolves once another change may be dispatched; undefined when one may be now. */
  waitForCapacity(): Promise<void> | undefined {
    if (this.#inFlight < this.options.maxInFlight) return undefined;
    return new Promise((resolve) => this.#capacity.push(resolve));
  }

  /** Resolves when nothing is in flight (or after `timeoutMs`): false on timeout. */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.#inFlight === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<boolean>((resolve) => this.#idle.push(() => resolve(true)));
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const result = await Promise.race([idle, timeout]);
    clearTimeout(timer);
    return result;
  }

  /** Starts delivering a change; returns at once (see waitForCapacity for backpressure). */
  dispatch(change: RelayChange, pipeline: Pipeline, tracker: StreamTracker): void {
    const entry = tracker.push(change.point, change.sourceTimeMs);
    this.#inFlight++;
    this.options.metrics.inFlight = this.#inFlight;
    const previous = this.#tails.get(change.orderingKey);
    if (previous === undefined) {
      const started = this.#start(change, pipeline);
      // Every step decided at once (e.g. a filter dropped it): settled, no promise made.
      if (!isThenable(started)) {
        tracker.complete(entry);
        this.#settled();
        return;
      }
      entry.tail = this.#track(change, pipeline, tracker, entry, undefined, started);
    } else entry.tail = this.#track(change, pipeline, tracker, entry, previous, undefined);
    this.#tails.set(change.orderingKey, entry);
  }

  /** The delivery started now; a synchronous failure becomes a rejected delivery. */
  #start(change: RelayChange, pipeline: Pipeline): DeliveryOutcome | Promise<DeliveryOutcome> {
    try {
      return this.deliver(change, pipeline);
    } catch (error) {
      return rejected(error);
    }
  }

  /**
   * Waits for a delivery that did not finish at once; `previous` is the change of the same
   * document still in flight, after which this one starts (never two of one document at once).
   */
  async #track(
    change: RelayChange,
    pipeline: Pipeline,
    tracker: StreamTracker,
    entry: Entry,
    previous: Entry | undefined,
    started: Promise<DeliveryOutcome> | undefined,
  ): Promise<void> {
    try {
      if (previous !== undefined) {
        await previous.tail;
        await this.deliver(change, pipeline);
      } else await started;
      tracker.complete(entry);
    } catch (error) {
      if (!(error instanceof Aborted)) {
        this.options.log.error(
          {
            key: change.key,
            error,
          },
          'relay delivery failed unexpectedly; the change stays unacknowledged',
        );
      }
    } finally {
      // Always after a suspension, so after dispatch registered this entry.
      if (this.#tails.get(change.orderingKey) === entry) this.#tails.delete(change.orderingKey);
      entry.tail = undefined;
      this.#settled();
    }
  }

  #settled(): void {
    this.#inFlight--;
    this.options.metrics.inFlight = this.#inFlight;
    this.#capacity.shift()?.();
    if (this.#inFlight === 0) for (const wake of this.#idle.splice(0)) wake();
  }

  /**
   * One change through every step of its pipeline, with retries and dead-lettering, in a
   * consumer span continuing the source's trace (an Eventloom event's traceparent).
   */
  deliver(change: RelayChange, pipeline: Pipeline): DeliveryOutcome | Promise<DeliveryOutcome> {
    const { metrics, relay } = this.options;
    // Without an SDK and without a source trace to check, a span would record nothing and
    // count nothing: skip its context switches and closures (they show at thousands per second).
    if (change.trace === undefined && !tracingEnabled())
      return this.#deliverUntraced(change, pipeline);
    return inSpan(
      'relay change',
      {
        kind: SpanKind.CONSUMER,
        carrier: change.trace ?? {},
        onMalformedTraceparent: () => metrics.malformedTraceparent++,
        attributes: () => ({
          'eventloom.relay.name': relay,
          'eventloom.relay.change.key': change.key,
          'eventloom.relay.operation': change.message.operationType,
          'eventloom.relay.namespace': `${change.message.ns.db}.${change.message.ns.coll}`,
        }),
      },
      async (span) => {
        const outcome = await this.#deliverSteps(change, pipeline, true, 0, change.message);
        if (span.isRecording()) span.setAttribute('eventloom.outcome', outcome);
        return outcome;
      },
    );
  }

  /**
   * The untraced path: steps run one after the other in this turn for as long as each
   * decides at once; the first one that returns a promise (a sink, a retry) continues the
   * rest asynchronously.
   */
  #deliverUntraced(
    change: RelayChange,
    pipeline: Pipeline,
  ): DeliveryOutcome | Promise<DeliveryOutcome> {
    const { hardStop, log } = this.options;
    if (hardStop.aborted) throw new Aborted();
    const steps = pipeline.steps;
    let message: unknown = change.message;
    const context: RelayStepContext = {
      key: change.key,
      change,
      attempt: 1,
      signal: hardStop,
      log,
    };
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i] as RelayStep;
      // The change's own message stays as it arrived (a dead letter stores it): copy it once,
      // before the first step that may change it.
      if (message === change.message && step.readsOnly !== true) message = structuredClone(message);
      let out: unknown;
      try {
        out = step.run(message, context);
      } catch (error) {
        out = rejected(error);
      }
      if (isThenable(out)) {
        if (i < steps.length - 1)
          return this.#deliverSteps(change, pipeline, false, i, message, Promise.resolve(out));
        // The usual last step, a sink: one promise for the change while it is in flight (the
        // retry loop only after a failed first attempt).
        const sent = message;
        return Promise.resolve(out).then(
          (result) => (result === null ? this.#filtered() : this.#delivered(change)),
          (error: unknown) => this.#deliverSteps(change, pipeline, false, i, sent, rejected(error)),
        );
      }
      if (out === null) return this.#filtered();
      if (out !== undefined) message = out;
    }
    return this.#delivered(change);
  }

  #filtered(): 'filtered' {
    this.options.metrics.filtered++;
    return 'filtered';
  }

  #delivered(change: RelayChange): 'delivered' {
    const { metrics } = this.options;
    metrics.processed++;
    if (change.sourceTimeMs !== undefined)
      metrics.lagSeconds = Math.max(0, (Date.now() - change.sourceTimeMs) / 1000);
    return 'delivered';
  }

  /** Steps from `from` on; `first` is that step's first attempt when already started. */
  async #deliverSteps(
    change: RelayChange,
    pipeline: Pipeline,
    traced: boolean,
    from: number,
    input: unknown,
    first?: Promise<unknown>,
  ): Promise<DeliveryOutcome> {
    let message = input;
    let started = first;
    for (let i = from; i < pipeline.steps.length; i++) {
      const step = pipeline.steps[i] as RelayStep;
      if (message === change.message && step.readsOnly !== true) message = structuredClone(message);
      const attempt = started;
      started = undefined;
      const result = traced
        ? await inSpan(
            `relay step ${step.name}`,
            { attributes: () => ({ 'eventloom.relay.step': step.name }) },
            (span) => this.#runStep(step, message, change, span),
          )
        : await this.#runStep(step, message, change, NOT_RECORDING, attempt);
      if (result.outcome !== undefined) return result.outcome;
      message = result.message;
    }
    return this.#delivered(change);
  }

  /** One step with its retries: the next message, or how the change ended here. */
  async #runStep(
    step: Pipeline['steps'][number],
    message: unknown,
    change: RelayChange,
    span: Span,
    first?: Promise<unknown>,
  ): Promise<{ message: unknown; outcome?: DeliveryOutcome }> {
    const { metrics, log, hardStop } = this.options;
    for (let attempt = 1; ; attempt++) {
      if (hardStop.aborted && (attempt > 1 || first === undefined)) throw new Aborted();
      try {
        const out = await (attempt === 1 && first !== undefined
          ? first
          : step.run(message, {
              key: change.key,
              change,
              attempt,
              signal: hardStop,
              log,
            }));
        if (out === null) {
          metrics.filtered++;
          return { message, outcome: 'filtered' };
        }
        return { message: out === undefined ? message : out };
      } catch (error) {
        if (hardStop.aborted) throw new Aborted();
        metrics.failedAttempts++;
        if (span.isRecording()) {
          span.addEvent('step failed', {
            'eventloom.attempt': attempt,
            'exception.message': errorMessage(error),
          });
        }
        const retryable = isRetryableStepFailure(error);
        if (!retryable || attempt >= step.retry.maxAttempts) {
          await this.#deadLetter(change, step.name, error, attempt);
          return { message, outcome: 'dead-lettered' };
        }
        const delayMs = backoffDelay(attempt, step.retry);
        log.warn(
          {
            step: step.name,
            key: change.key,
            attempt,
            delayMs,
            error: errorMessage(error),
          },
          'relay step failed; retrying',
        );
        await sleep(delayMs, hardStop);
      }
    }
  }

  async #deadLetter(
    change: RelayChange,
    step: string,
    error: unknown,
    attempts: number,
  ): Promise<void> {
    const { state, metrics, log, hardStop } = this.options;
    const reason = errorMessage(error);
    for (let attempt = 1; ; attempt++) {
      try {
        await state.addDeadLetter({
          key: change.key,
          streamKey: change.streamKey,
          orderingKey: change.orderingKey,
          step,
          reason,
          attempts,
          message: change.message,
          ...(change.sourceTimeMs !== undefined ? { sourceTimeMs: change.sourceTimeMs } : {}),
          deadAt: new Date(),
        });
        break;
      } catch (storeError) {
        // Never acknowledge a change that is neither delivered nor parked.
        if (hardStop.aborted) throw new Aborted();
        log.error({ key: change.key, error: storeError }, 'cannot write the dead letter; retrying');
        await sleep(backoffDelay(attempt, { initialDelayMs: 200, maxDelayMs: 10_000 }), hardStop);
      }
    }
    metrics.deadLettered++;
    log.error(
      {
        key: change.key,
        step,
        attempts,
        reason,
        ns: change.message.ns,
        operationType: change.message.operationType,
      },
      'change dead-lettered',
    );
  }
}

/** Stores each stream's low-water mark, at most every `intervalMs`. */
export class Checkpointer {
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly deliverer: Deliverer,
    private readonly state: RelayStateStore,
    private readonly metrics: RelayMetrics,
    private readonly log: Logger,
    private readonly canWrite: () => boolean,
  ) {}

  start(intervalMs: number): void {
    this.#timer = setInterval(() => void this.flush(), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
  }

  /** Writes every changed low-water mark (serialised: one flush at a time). */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(async () => {
      for (const tracker of this.deliverer.trackers.values()) {
        const point = tracker.committed;
        if (point === undefined || point === tracker.saved || !this.canWrite()) continue;
        try {
          await this.state.saveCheckpoint({
            ...point,
            streamKey: tracker.streamKey,
            updatedAt: new Date(),
          });
          tracker.saved = point;
          this.metrics.checkpointsSaved++;
        } catch (error) {
          this.log.warn(
            {
              stream: tracker.streamKey,
              error,
            },
            'checkpoint write failed; will retry',
          );
        }
      }
    });
    return this.#flushing;
  }
}
