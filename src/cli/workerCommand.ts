import { startOpsServer } from '../relay/relayServer.js';
import { loadAppConfig } from '../server/index.js';
import { ConfigurationError } from '../core/errors.js';
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
  flags: { data?: string; metricsPort?: string },
  log: Logger,
): Promise<void> {
  const worker = toWorkerName(name);
  const config = loadAppConfig(process.env, flags);
  const { metrics, telemetry } = await startCliTelemetry(`worker-${worker}`, log);
  try {
    const running = await runServiceWorker({ name: worker, config, logger: log, metrics });
    const portText = flags.metricsPort ?? process.env.WORKER_METRICS_PORT;
    let ops: Awaited<ReturnType<typeof startOpsServer>> | undefined;
    if (portText !== undefined && portText !== '') {
      const port = Number(portText);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        await running.stop();
        throw new ConfigurationError(
          `--metrics-port / WORKER_METRICS_PORT must be a port number 0-65535 (0: any free port), not '${portText}'`,
        );
      }
      let failed = false;
      running.done.catch(() => (failed = true));
      ops = await startOpsServer({
        host: config.host,
        port,
        health: () => ({ ok: !failed, body: { worker, ok: !failed } }),
        metrics: () => metrics.metrics(),
        metricsContentType: metrics.contentType,
        owner: {
          name: `worker ${worker}`,
          portHint: 'give each worker its own --metrics-port, or 0 for any free port',
        },
      }).catch(async (error: unknown) => {
        await running.stop();
        throw error;
      });
      process.stdout.write(
        `Eventloom worker ${worker} serves /metrics and /health on http://${config.host}:${ops.port}\n`,
      );
    }
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
    await ops?.close();
    if (outcome === 'failed') process.exitCode = 1;
  } finally {
    await telemetry.shutdown();
  }
}
