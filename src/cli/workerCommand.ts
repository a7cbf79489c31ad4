import { loadAppConfig } from '../server/index.js';
import type { Logger } from '../core/logger.js';
import { runServiceWorker, toWorkerName } from '../workers/index.js';
import { startCliTelemetry } from './cliTelemetry.js';
import { nextSignal } from './startCommand.js';

/**
 * `eventloom worker <name>`: one of the shop's services as its own process over Kafka, until
 * SIGINT/SIGTERM (then it finishes the inputs in hand, commits and closes its store).
 */
export async function workerCommand(
  name: string,
  flags: { data?: string },
  log: Logger,
): Promise<void> {
  const worker = toWorkerName(name);
  const config = loadAppConfig(process.env, flags);
  const { metrics, telemetry } = await startCliTelemetry(`worker-${worker}`, log);
  try {
    const running = await runServiceWorker({ name: worker, config, logger: log, metrics });
    process.stdout.write(`Eventloom worker ${worker} is running (Ctrl+C to stop)\n`);
    const stoppedByItself = running.done.then(
      () => 'stopped' as const,
      (error: unknown) => {
        log.error({ error }, 'worker failed');
        return 'failed' as const;
      },
    );
    const outcome = await Promise.race([nextSignal(log), stoppedByItself]);
    if (outcome !== 'stopped' && outcome !== 'failed') {
      log.info({ signal: outcome }, 'shutting down');
    }
    await running.stop();
    if (outcome === 'failed') process.exitCode = 1;
  } finally {
    await telemetry.shutdown();
  }
}
