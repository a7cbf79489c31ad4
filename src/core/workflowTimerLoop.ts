import { backoffDelay, sleep, yieldToEventLoop } from './async.js';
import { checkBoolean, checkInteger, checkMillis } from './optionChecks.js';
import type { WorkflowClock, WorkflowProcessor } from './workflowProcessor.js';

/** What a timer loop reports: each firing pass that failed (it is retried with backoff). */
export interface WorkflowTimerFailure {
  kind: 'timers-failed';
  workflow: string;
  attempt: number;
  delayMs: number;
  error: unknown;
}

export interface WorkflowTimerLoop {
  /** Runs one firing pass now (the loop keeps its own schedule); resolves with how many fired. */
  fireDue(): Promise<number>;
  stop(): Promise<void>;
}

export interface WorkflowTimerLoopOptions {
  now: WorkflowClock;
  /** Longest wait between two looks at the index (timers written by other processes). */
  pollIntervalMs: number;
  batchSize: number;
  /** `false`: no loop, only `fireDue()` fires. */
  auto: boolean;
  onFailure: (failure: WorkflowTimerFailure) => void;
}

/**
 * Fires a processor's due timers until stopped: sleeps until the earliest pending timer is due
 * (at most `pollIntervalMs`), fires, repeats. A failing pass is reported and retried with
 * backoff; nothing is dropped, since a timer leaves the index only once its firing was
 * recorded and dispatched.
 */
export function startWorkflowTimerLoop(
  processor: WorkflowProcessor,
  options: WorkflowTimerLoopOptions,
): WorkflowTimerLoop {
  const stopController = new AbortController();
  const { signal } = stopController;
  const backoff = { initialDelayMs: 50, maxDelayMs: options.pollIntervalMs };

  // One pass at a time: a manual fireDue() during a loop pass waits for it, then runs its own.
  let queue: Promise<unknown> = Promise.resolve();
  const fireDue = (): Promise<number> => {
    const pass = queue.then(async () => {
      let fired = 0;
      for (;;) {
        const batch = await processor.fireDueTimers(options.batchSize);
        fired += batch;
        if (batch < options.batchSize || signal.aborted) return fired;
        await yieldToEventLoop();
      }
    });
    queue = pass.catch(() => undefined);
    return pass;
  };

  const loop = async (): Promise<void> => {
    let failures = 0;
    while (!signal.aborted) {
      let delayMs = options.pollIntervalMs;
      try {
        await fireDue();
        failures = 0;
        const next = await processor.nextTimerDue();
        if (next !== undefined) {
          delayMs = Math.min(delayMs, Math.max(1, next.getTime() - options.now().getTime()));
        }
      } catch (error) {
        failures++;
        delayMs = backoffDelay(failures, backoff);
        options.onFailure({
          kind: 'timers-failed',
          workflow: processor.workflow,
          attempt: failures,
          delayMs,
          error,
        });
      }
      await sleep(delayMs, signal);
    }
  };
  const running = options.auto ? loop() : Promise.resolve();

  return {
    fireDue,
    async stop() {
      stopController.abort();
      await running;
      await queue;
    },
  };
}

/** The timer options every workflow runner takes. */
export interface WorkflowTimerSettings {
  now?: WorkflowClock;
  /** Longest wait between two looks at the timer index (for timers other processes write). Default 1000. */
  timerPollIntervalMs?: number;
  /** Timers fired per index read. Default 100. */
  timerBatchSize?: number;
  /**
   * Fire due timers on a loop in this runner. `false`: only `fireDueTimers()` fires them (a test
   * that moves a clock, or a process that leaves timers to another). Default `true`.
   */
  autoFireTimers?: boolean;
}

export const WORKFLOW_TIMER_KEYS = ['timerPollIntervalMs', 'timerBatchSize', 'autoFireTimers'];

/** Checks a runner's timer settings (paths under `path`) and fills in the defaults. */
export function resolveTimerLoopOptions(
  settings: WorkflowTimerSettings,
  path: string,
  onFailure: (failure: WorkflowTimerFailure) => void,
): WorkflowTimerLoopOptions {
  checkMillis(settings.timerPollIntervalMs, `${path}.timerPollIntervalMs`, 1);
  checkInteger(settings.timerBatchSize, `${path}.timerBatchSize`, 1, 10_000);
  checkBoolean(settings.autoFireTimers, `${path}.autoFireTimers`);
  return {
    now: settings.now ?? (() => new Date()),
    pollIntervalMs: settings.timerPollIntervalMs ?? 1000,
    batchSize: settings.timerBatchSize ?? 100,
    auto: settings.autoFireTimers ?? true,
    onFailure,
  };
}
