import { runWorkflow, type WorkflowNotice, type WorkflowRunner } from '../../core/index.js';
import type { AppService, AppServiceContext } from './appService.js';

export interface RunningAppServices {
  /** One runner per workflow of every service. */
  readonly runners: readonly WorkflowRunner[];
  /** Stops every runner (each finishes its input in hand and stores its checkpoint). */
  stop(): Promise<void>;
}

export interface RunAppServicesOptions {
  /** Longest wait between two looks at the timer index. Default 1000. */
  timerPollIntervalMs?: number;
  /** Every runner's notices, besides the log lines. */
  onNotice?: (service: string, notice: WorkflowNotice) => void;
}

function logNotice(
  logger: AppServiceContext['logger'],
  service: string,
  notice: WorkflowNotice,
): void {
  const fields = {
    service,
    ...('subscription' in notice ? { subscription: notice.subscription } : {}),
    ...('workflow' in notice ? { workflow: notice.workflow } : {}),
    ...('position' in notice ? { position: notice.position } : {}),
    ...('error' in notice && notice.error !== undefined ? { error: notice.error } : {}),
  };
  if (notice.kind === 'caught-up') logger.debug(fields, 'service caught up');
  else if (notice.kind === 'stopped' && !('error' in notice && notice.error !== undefined)) {
    logger.info(fields, 'service stopped');
  } else logger.warn(fields, `service ${notice.kind}`);
}

/**
 * Runs services in this process, each workflow on its own store subscription (restart-safe:
 * checkpoints in the store, timers in `context.timers`).
 *
 * @example
 * const context = { store, shop, inventory: shop.inventory, timers, now: () => new Date(), config, logger };
 * const running = runAppServices(Object.values(APP_SERVICES).map((s) => s(context)), context);
 * // … on shutdown
 * await running.stop();
 */
export function runAppServices(
  services: readonly AppService[],
  context: Pick<AppServiceContext, 'store' | 'timers' | 'now' | 'logger'>,
  options: RunAppServicesOptions = {},
): RunningAppServices {
  const runners: WorkflowRunner[] = [];
  for (const service of services) {
    for (const { workflow, commands } of service.workflows) {
      runners.push(
        runWorkflow({
          store: context.store,
          workflow,
          commands,
          timers: context.timers,
          now: context.now,
          ...(options.timerPollIntervalMs === undefined
            ? {}
            : { timerPollIntervalMs: options.timerPollIntervalMs }),
          onEvent: (notice) => {
            logNotice(context.logger, service.name, notice);
            options.onNotice?.(service.name, notice);
          },
        }),
      );
    }
  }
  return {
    runners,
    async stop() {
      await Promise.all(runners.map((runner) => runner.stop()));
    },
  };
}
