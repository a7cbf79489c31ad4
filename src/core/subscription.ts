import { backoffDelay, errorMessage, type Notifier, sleep } from './async.js';
import { EventloomError, isStoreClosedError, ValidationError } from './errors.js';
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
  readAll(options: ReadAllOptions): Promise<RecordedEvent[]>;
  headPosition(): Promise<number>;
  checkpoints: CheckpointStore;
  /** Wakes live subscribers after an append in this process. */
  notifier: Notifier;
}

const DEFAULTS = {
  batchSize: 500,
  maxAttempts: 5,
  initialDelayMs: 50,
  maxDelayMs: 5000,
  checkpointIntervalMs: 200,
  pollIntervalMs: 100,
};

/**
 * Catch-up-then-live subscription over a store's global log. At-least-once, in position
 * order; the checkpoint under `name` is the last position handled, so a restart continues
 * right after it. Used by every store's `subscribe()`.
 */
export function startSubscription(
  source: SubscriptionSource,
  options: SubscribeOptions,
): Subscription {
  if (typeof options?.name !== 'string' || options.name.trim() === '') {
    throw new ValidationError(
      'options.name',
      'must be a non-empty string: the durable checkpoint is stored under it',
    );
  }
  if (typeof options.handler !== 'function') {
    throw new ValidationError(
      'options.handler',
      'must be a function (event, context) => void | Promise<void>',
    );
  }
  const from = options.from ?? 'start';
  if (!(from === 'start' || from === 'end' || (Number.isSafeInteger(from) && from >= 0))) {
    throw new ValidationError(
      'options.from',
      `must be 'start', 'end' or a position >= 0; got ${String(from)}`,
    );
  }
  const name = options.name;
  const batchSize = options.batchSize ?? DEFAULTS.batchSize;
  const maxAttempts = options.retry?.maxAttempts ?? DEFAULTS.maxAttempts;
  const backoff = {
    initialDelayMs: options.retry?.initialDelayMs ?? DEFAULTS.initialDelayMs,
    maxDelayMs: options.retry?.maxDelayMs ?? DEFAULTS.maxDelayMs,
  };
  const checkpointEvery = options.checkpointIntervalMs ?? DEFAULTS.checkpointIntervalMs;
  const pollMs = options.pollIntervalMs ?? DEFAULTS.pollIntervalMs;
  const types = options.eventTypes ? new Set(options.eventTypes) : undefined;
  const poison = options.onPoison ?? 'park';
  const checkpoints = options.checkpoints ?? source.checkpoints;
  const settleOnCheckpoint = options.settleOn === 'checkpointed';
  const emit = (notice: SubscriptionNotice): void => {
    try {
      options.onEvent?.(notice);
    } catch {
      // An observer must not break delivery.
    }
  };

  const stopController = new AbortController();
  const status: SubscriptionStatus = {
    name,
    state: 'starting',
    position: 0,
    processed: 0,
    parked: 0,
  };
  let saved = -1;
  let lastSaveAt = 0;
  const waiters = new Set<{
    position: number;
    resolve: () => void;
    reject: (e: unknown) => void;
  }>();

  const settleWaiters = (error?: unknown): void => {
    if (waiters.size === 0) return;
    for (const w of waiters) {
      if (error !== undefined) w.reject(error);
      else if ((settleOnCheckpoint ? saved : status.position) >= w.position) w.resolve();
      else continue;
      waiters.delete(w);
    }
  };

  const saveCheckpoint = async (force: boolean): Promise<void> => {
    if (status.position <= saved) return;
    const now = Date.now();
    if (!force && now - lastSaveAt < checkpointEvery) return;
    await checkpoints.save(name, status.position);
    saved = status.position;
    lastSaveAt = now;
    if (settleOnCheckpoint) settleWaiters();
  };

  /** Runs the handler with retries; returns false when the subscription must stop. */
  const deliver = async (event: RecordedEvent): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      try {
        const result = options.handler(event, { subscription: name, attempt });
        // Synchronous handlers skip a microtask per event: it shows in catch-up throughput.
        if (result !== undefined && typeof result.then === 'function') await result;
        return;
      } catch (error) {
        if (attempt >= maxAttempts) {
          const reason = errorMessage(error);
          if (poison === 'stop') {
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
        const delayMs = backoffDelay(attempt, backoff);
        emit({ kind: 'retry', subscription: name, event, attempt, delayMs, error });
        await sleep(delayMs, stopController.signal);
        if (stopController.signal.aborted) throw STOPPED;
      }
    }
  };

  const run = async (): Promise<void> => {
    const checkpoint = await checkpoints.load(name);
    let next: number;
    if (checkpoint !== undefined) next = checkpoint + 1;
    else if (from === 'start') next = 0;
    else if (from === 'end') next = (await source.headPosition()) + 1;
    else next = from;
    status.position = Math.max(0, next - 1);
    saved = checkpoint ?? -1;
    status.state = 'catching-up';
    let readFailures = 0;

    while (!stopController.signal.aborted) {
      let batch: RecordedEvent[];
      const seen = source.notifier.version;
      try {
        batch = await source.readAll({ from: next, maxCount: batchSize });
        readFailures = 0;
      } catch (error) {
        if (isStoreClosedError(error)) throw error;
        readFailures++;
        const delayMs = backoffDelay(readFailures, backoff);
        emit({ kind: 'read-failed', subscription: name, attempt: readFailures, delayMs, error });
        await sleep(delayMs, stopController.signal);
        continue;
      }
      for (const event of batch) {
        if (stopController.signal.aborted) break;
        if (types === undefined || types.has(event.type)) await deliver(event);
        status.position = event.position;
        status.processed++;
        next = event.position + 1;
        settleWaiters();
        await saveCheckpoint(false);
      }
      if (batch.length < batchSize && !stopController.signal.aborted) {
        await saveCheckpoint(true);
        if (status.state !== 'live') {
          status.state = 'live';
          emit({ kind: 'caught-up', subscription: name, position: status.position });
        }
        settleWaiters();
        await source.notifier.wait(pollMs, stopController.signal, seen);
      }
    }
  };

  const done = run().then(
    async () => {
      await saveCheckpoint(true);
      status.state = 'stopped';
      emit({ kind: 'stopped', subscription: name, position: status.position });
      settleWaiters(new EventloomError('SUBSCRIPTION_STOPPED', `Subscription '${name}' stopped`));
    },
    async (error: unknown) => {
      if (error === STOPPED) {
        await saveCheckpoint(true);
        status.state = 'stopped';
        emit({ kind: 'stopped', subscription: name, position: status.position });
        settleWaiters(new EventloomError('SUBSCRIPTION_STOPPED', `Subscription '${name}' stopped`));
        return;
      }
      try {
        await saveCheckpoint(true);
      } catch {
        // Keep the original error; the checkpoint is retried on the next start.
      }
      status.state = 'failed';
      status.error = errorMessage(error);
      emit({ kind: 'stopped', subscription: name, position: status.position, error });
      settleWaiters(error);
      throw error;
    },
  );
  // `done` is awaited by stop(); this keeps an unobserved failure from crashing the process
  // while still surfacing it to whoever awaits `done`.
  done.catch(() => undefined);

  return {
    name,
    done,
    status: () => ({ ...status }),
    waitFor(position: number, timeoutMs = 30_000): Promise<void> {
      if ((settleOnCheckpoint ? saved : status.position) >= position) return Promise.resolve();
      if (status.state === 'stopped' || status.state === 'failed') {
        return Promise.reject(
          new EventloomError('SUBSCRIPTION_STOPPED', `Subscription '${name}' is ${status.state}`),
        );
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(
            new EventloomError(
              'SUBSCRIPTION_STOPPED',
              `Subscription '${name}' did not reach position ${position} within ${timeoutMs} ms (at ${status.position})`,
            ),
          );
        }, timeoutMs);
        const waiter = {
          position,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
          reject: (e: unknown) => {
            clearTimeout(timer);
            reject(e instanceof Error ? e : new Error(String(e)));
          },
        };
        waiters.add(waiter);
      });
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
