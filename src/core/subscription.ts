import { context, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import {
  backoffDelay,
  deferred,
  errorMessage,
  type Notifier,
  PositionWaiters,
  sleep,
  yieldToEventLoop,
} from './async.js';
import {
  EventloomError,
  isEventloomError,
  isRetryableError,
  isStoreClosedError,
  ValidationError,
} from './errors.js';
import { resolveSubscribeOptions } from './subscriptionOptions.js';
import { eventAttributes, inSpan, tracingEnabled } from './tracing.js';
import type {
  CheckpointStore,
  ReadAllOptions,
  RecordedEvent,
  SubscribeOptions,
  Subscription,
  SubscriptionNotice,
  SubscriptionStatus,
} from './types.js';

/** What the subscription engine needs from a store. */
export interface SubscriptionSource {
  /**
   * @param only the types the subscriber handles, when it names them. Events of other types
   *   may come as stand-ins holding only their id, stream, type, version and position (data
   *   `null`, metadata empty): the subscription moves past them and hands them to no one,
   *   so a store need not decode what nobody reads.
   * @param storedJson whether the subscriber asked for the JSON text events are stored as
   *   (`SubscribeOptions.storedJson`); stores that keep none ignore it.
   */
  readAll(
    options: ReadAllOptions,
    only?: ReadonlySet<string>,
    storedJson?: boolean,
  ): Promise<RecordedEvent[]>;
  headPosition(): Promise<number>;
  /**
   * The head right now, for stores that know it without I/O. With it, `from: 'end'` means
   * the head when `subscribe()` was called, so an append made right after is delivered.
   */
  headPositionNow?(): number;
  checkpoints: CheckpointStore;
  /** Wakes live subscribers after an append in this process. */
  notifier: Notifier;
}

/**
 * Catch-up-then-live subscription over a store's global log. At-least-once, in position
 * order; the checkpoint under `name` is the last position handled, so a restart continues
 * right after it. Used by every store's `subscribe()`.
 */
export function startSubscription(
  source: SubscriptionSource,
  options: SubscribeOptions,
): Subscription {
  const o = resolveSubscribeOptions(options);
  const { name, from } = o;
  // Read now, not when the loop starts: an append made right after subscribe() returns must
  // come after 'end', or it would never be delivered.
  const endAtCall =
    from === 'end' && source.headPositionNow !== undefined ? source.headPositionNow() : undefined;
  const checkpoints = o.checkpoints ?? source.checkpoints;
  const settleOnCheckpoint = o.settleOn === 'checkpointed';
  const emit = (notice: SubscriptionNotice): void => {
    try {
      o.onEvent?.(notice);
    } catch {
      // An observer must not break delivery.
    }
  };

  const stopController = new AbortController();
  const signal = stopController.signal;
  const status: SubscriptionStatus = {
    name,
    state: 'starting',
    position: 0,
    processed: 0,
    parked: 0,
  };
  // Until the stored checkpoint is loaded, `status.position` is no position of ours: saving
  // it would overwrite the real checkpoint and make the next start replay everything.
  let positioned = false;
  let saved = -1;
  let lastSaveAt = 0;
  // Whether the handler ran since the last save. Events the filter skipped change nothing
  // the handler owns, so a checkpoint-settled waiter need not wait for a save to pass them.
  let handledSinceSave = false;
  const waiters = new PositionWaiters();
  const started = deferred();

  /** Where `waitFor` callers are served up to: handled, or with `checkpointed` committed. */
  const settledPosition = (): number =>
    settleOnCheckpoint && handledSinceSave ? saved : status.position;
  const settleWaiters = (error?: unknown): void => {
    if (error !== undefined) waiters.failAll(error);
    else waiters.reached(settledPosition());
  };

  /**
   * Runs `operation` until it succeeds, with backoff, reporting each failure. A closed store,
   * a stop, or an Eventloom error that says a retry cannot help (a corrupted record, invalid
   * data, a configuration error) ends the retries: the subscription stops loudly with it
   * instead of retrying the same failure forever. Errors of unknown origin are retried.
   */
  const retrying = async <T>(
    operation: () => Promise<T>,
    report: (attempt: number, delayMs: number, error: unknown) => SubscriptionNotice,
  ): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await operation();
      } catch (error) {
        if (isStoreClosedError(error) || signal.aborted) throw error;
        if (isEventloomError(error) && !isRetryableError(error)) throw error;
        const delayMs = backoffDelay(attempt, o.backoff);
        emit(report(attempt, delayMs, error));
        await sleep(delayMs, signal);
        if (signal.aborted) throw STOPPED;
      }
    }
  };
  const readFailed = (attempt: number, delayMs: number, error: unknown): SubscriptionNotice => ({
    kind: 'read-failed',
    subscription: name,
    attempt,
    delayMs,
    error,
  });

  /** @param once on the way out: one try, no retries. */
  const saveCheckpoint = async (force: boolean, once = false): Promise<void> => {
    if (!positioned || status.position <= saved) return;
    const now = Date.now();
    if (!force && now - lastSaveAt < o.checkpointIntervalMs) return;
    // A live batch the filter skipped entirely is saved on the interval, not at once: one
    // store write per subscription per append elsewhere in the log would cost more than the
    // replay of skipped events after a crash. (Stopping still saves: `once`.)
    if (!handledSinceSave && !once && now - lastSaveAt < o.checkpointIntervalMs) return;
    const position = status.position;
    if (once) await checkpoints.save(name, position);
    else
      await retrying(
        () => checkpoints.save(name, position),
        (attempt, delayMs, error) => ({
          kind: 'checkpoint-failed',
          subscription: name,
          position,
          attempt,
          delayMs,
          error,
        }),
      );
    saved = position;
    lastSaveAt = now;
    if (status.position === position) handledSinceSave = false;
    if (settleOnCheckpoint) settleWaiters();
  };

  /** Whether `saveCheckpoint(false)` would write: checked first, it costs no promise when not. */
  const checkpointDue = (): boolean =>
    positioned && status.position > saved && Date.now() - lastSaveAt >= o.checkpointIntervalMs;

  /**
   * Delivers in a consumer span continuing the trace of the command that appended the event
   * (its metadata's traceparent); a malformed one starts a new trace and is reported.
   */
  const deliverTraced = (event: RecordedEvent): Promise<void> =>
    // Without an SDK only a traceparent present needs a look (to report a malformed one).
    tracingEnabled() || event.metadata?.traceparent !== undefined
      ? inSpan(
          `process ${name}`,
          {
            kind: SpanKind.CONSUMER,
            carrier: event.metadata,
            onMalformedTraceparent: () =>
              emit({
                kind: 'malformed-traceparent',
                subscription: name,
                eventId: event.id,
                position: event.position,
              }),
            attributes: () => ({
              'messaging.system': 'eventloom',
              'messaging.operation.type': 'process',
              'messaging.destination.subscription.name': name,
              ...eventAttributes(event),
            }),
          },
          () => deliver(event),
        )
      : deliver(event);

  /** Runs the handler with retries, then applies the poison policy. */
  const deliver = async (event: RecordedEvent): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      if (attempt > 1) trace.getActiveSpan()?.addEvent('retry', { 'eventloom.attempt': attempt });
      try {
        const result = o.handler(event, { subscription: name, attempt });
        // Synchronous handlers skip a microtask per event: it shows in catch-up throughput.
        if (result !== undefined && typeof result.then === 'function') await result;
        return;
      } catch (error) {
        if (attempt >= o.maxAttempts) {
          const reason = errorMessage(error);
          if (o.onPoison === 'stop') {
            throw new EventloomError(
              'HANDLER_FAILED',
              `Subscription '${name}' stopped: its handler failed ${attempt} times on event ${event.id} (${event.type} at position ${event.position}): ${reason}`,
              {
                cause: error,
                details: { subscription: name, eventId: event.id, position: event.position },
              },
            );
          }
          await checkpoints.park({
            subscription: name,
            event,
            reason,
            attempts: attempt,
            parkedAt: new Date(),
          });
          status.parked++;
          emit({ kind: 'parked', subscription: name, event, reason });
          return;
        }
        const delayMs = backoffDelay(attempt, o.backoff);
        emit({ kind: 'retry', subscription: name, event, attempt, delayMs, error });
        await sleep(delayMs, signal);
        if (signal.aborted) throw STOPPED;
      }
    }
  };

  /** `handleBatch` takes the batch unless a span is to be made for one of its events. */
  const batchDeliverable = (batch: readonly RecordedEvent[]): boolean => {
    if (o.handleBatch === undefined || tracingEnabled()) return false;
    for (const event of batch) {
      if (o.eventTypes !== undefined && !o.eventTypes.has(event.type)) continue;
      if (event.metadata?.traceparent !== undefined) return false;
    }
    return true;
  };

  /** One call, no per-event promises: a consumer that only buffers reads at store speed. */
  const deliverBatch = async (batch: RecordedEvent[], last: RecordedEvent): Promise<void> => {
    const events = o.eventTypes ? batch.filter((e) => o.eventTypes?.has(e.type)) : batch;
    if (events.length > 0) handledSinceSave = true;
    const result = events.length > 0 ? o.handleBatch?.(events) : undefined;
    if (result !== undefined) await result;
    status.position = last.position;
    status.processed += batch.length;
    settleWaiters();
    if (checkpointDue()) await saveCheckpoint(false);
  };

  /** Where delivery starts: after the stored checkpoint, else where `from` says. */
  const startPosition = async (): Promise<number> => {
    const checkpoint = await retrying(() => checkpoints.load(name), readFailed);
    if (checkpoint !== undefined) {
      if (!Number.isSafeInteger(checkpoint) || checkpoint < 0) {
        throw new ValidationError(
          `checkpoints['${name}']`,
          `the stored checkpoint must be a position (an integer >= 0); got ${String(checkpoint)}. Reset it with checkpoints.reset('${name}') to start over`,
        );
      }
      saved = checkpoint;
      return checkpoint + 1;
    }
    if (from === 'start') return 0;
    if (from === 'end') {
      return (endAtCall ?? (await retrying(() => source.headPosition(), readFailed))) + 1;
    }
    return from;
  };

  const run = async (): Promise<void> => {
    let next = await startPosition();
    status.position = Math.max(0, next - 1);
    positioned = true;
    status.state = 'catching-up';
    started.resolve();

    while (!signal.aborted) {
      const seen = source.notifier.version;
      const batch = await retrying(
        () => source.readAll({ from: next, maxCount: o.batchSize }, o.eventTypes, o.storedJson),
        readFailed,
      );
      const last = batch[batch.length - 1];
      const batched = last !== undefined && !signal.aborted && batchDeliverable(batch);
      if (batched) {
        await deliverBatch(batch, last);
        next = last.position + 1;
      }
      // Events the filter skips are passed over without an await each: most subscribers of
      // a busy log handle few of its types, and a settle and a checkpoint check per skipped
      // event cost more than the skip. Their waiters are served before the next handled
      // event is delivered (a slow handler must not hold them) and at the end of the batch.
      let skipped = false;
      for (const event of batched ? [] : batch) {
        if (signal.aborted) break;
        if (o.eventTypes === undefined || o.eventTypes.has(event.type)) {
          if (skipped) {
            skipped = false;
            settleWaiters();
            if (checkpointDue()) await saveCheckpoint(false);
          }
          handledSinceSave = true;
          await deliverTraced(event);
        } else {
          skipped = true;
        }
        status.position = event.position;
        status.processed++;
        next = event.position + 1;
        if (skipped) continue;
        settleWaiters();
        if (checkpointDue()) await saveCheckpoint(false);
      }
      if (skipped) {
        settleWaiters();
        if (checkpointDue()) await saveCheckpoint(false);
      }
      if (batch.length < o.batchSize && !signal.aborted) {
        await saveCheckpoint(true);
        if (status.state !== 'live') {
          status.state = 'live';
          emit({ kind: 'caught-up', subscription: name, position: status.position });
        }
        settleWaiters();
        await source.notifier.wait(o.pollIntervalMs, signal, seen);
        // The store notifies inside each append: reading at once would read (and commit)
        // once per append. One turn of the event loop lets the appends of the requests
        // already received land first, so they are read and committed as one batch.
        await yieldToEventLoop();
      } else {
        // A local store answers reads in microtasks: without a real turn of the event loop
        // between full batches, a long catch-up would starve timers, I/O and stop().
        await yieldToEventLoop();
      }
    }
  };

  const stopped = async (): Promise<void> => {
    started.reject(
      new EventloomError(
        'SUBSCRIPTION_STOPPED',
        `Subscription '${name}' stopped before it started`,
      ),
    );
    await saveCheckpoint(true, true);
    status.state = 'stopped';
    emit({ kind: 'stopped', subscription: name, position: status.position });
    settleWaiters(new EventloomError('SUBSCRIPTION_STOPPED', `Subscription '${name}' stopped`));
  };
  // The loop belongs to no caller's trace: its spans start from the events' own.
  const done = context.with(ROOT_CONTEXT, run).then(stopped, async (error: unknown) => {
    if (error === STOPPED) return stopped();
    started.reject(error);
    try {
      await saveCheckpoint(true, true);
    } catch {
      // Keep the original error; the checkpoint is retried on the next start.
    }
    status.state = 'failed';
    status.error = errorMessage(error);
    emit({ kind: 'stopped', subscription: name, position: status.position, error });
    settleWaiters(error);
    throw error;
  });
  // `done` is awaited by stop(); this keeps an unobserved failure from crashing the process
  // while still surfacing it to whoever awaits `done`.
  done.catch(() => undefined);

  return {
    name,
    done,
    started: started.promise,
    status: () => ({ ...status }),
    waitFor(position: number, timeoutMs = 30_000): Promise<void> {
      if (settledPosition() >= position) return Promise.resolve();
      if (status.state === 'stopped' || status.state === 'failed') {
        return Promise.reject(
          new EventloomError('SUBSCRIPTION_STOPPED', `Subscription '${name}' is ${status.state}`),
        );
      }
      return waiters.wait(
        position,
        timeoutMs,
        () =>
          new EventloomError(
            'SUBSCRIPTION_STOPPED',
            `Subscription '${name}' did not reach position ${position} within ${timeoutMs} ms (at ${status.position})`,
          ),
      );
    },
    async stop(): Promise<void> {
      stopController.abort();
      await done.catch(() => undefined);
    },
  };
}

/** Thrown inside the loop when stop() interrupts a retry backoff. */
class StopRequested extends Error {}
const STOPPED = new StopRequested('stop requested');

/**
 * The subscriptions of one store: starts them over the store's log and stops them all when
 * the store closes. Every store adapter uses it, so none repeats the bookkeeping.
 */
export function createSubscriptionHost(
  source: SubscriptionSource,
  defaults: Pick<SubscribeOptions, 'pollIntervalMs'> = {},
): { subscribe(options: SubscribeOptions): Subscription; stopAll(): Promise<void> } {
  const running = new Set<Subscription>();
  return {
    subscribe(options) {
      const sub = startSubscription(source, { ...defaults, ...options });
      running.add(sub);
      void sub.done.catch(() => undefined).finally(() => running.delete(sub));
      return sub;
    },
    async stopAll() {
      await Promise.all([...running].map((s) => s.stop()));
    },
  };
}
