import type { Logger } from '../core/logger.js';
import { createMetricsRegistry, type Registry } from '../node/metricsRegistry.js';
import type { Telemetry } from '../node/telemetry.js';

export interface CliTelemetry {
  /** The process registry: the command's /metrics renders it. */
  metrics: Registry;
  telemetry: Telemetry;
}

/**
 * The process registry and, when the OTEL_* variables ask for it, the tracing SDK of a
 * long-running command (`start`, `relay`, `worker`); `service.name` defaults to
 * `eventloom-<command>`.
 */
export async function startCliTelemetry(command: string, log: Logger): Promise<CliTelemetry> {
  const metrics = createMetricsRegistry();
  const { startTelemetry } = await import('../node/telemetry.js');
  const telemetry = await startTelemetry({
    defaultServiceName: `eventloom-${command}`,
    env: process.env,
    metrics,
  });
  if (telemetry.enabled) {
    log.info(
      {
        endpoint:
          process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? process.env.OTEL_EXPORTER_OTLP_ENDPOINT,
        sampler: process.env.OTEL_TRACES_SAMPLER ?? 'parentbased_always_on',
      },
      'exporting traces over OTLP/HTTP',
    );
  }
  return { metrics, telemetry };
}
