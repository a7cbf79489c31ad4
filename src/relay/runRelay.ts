import type { Logger } from '../core/logger.js';
import { noopLogger } from '../core/logger.js';
import type { Registry } from '../node/metricsRegistry.js';

/** What {@link runRelay} needs from its process. */
export interface RunRelayOptions {
  /** The config file: .yaml, .yml, .json, .js, .mjs or .ts. */
  config: string;
  /**
   * The variables `${VAR}` in the config refers to, and the relay's own:
   * `EVENTLOOM_RELAY_INSTANCE` (this host's name in lease owners) and `KAFKA_BROKERS` (brokers
   * of a Kafka step that names none). The CLI passes `process.env`.
   */
  env: Readonly<Record<string, string | undefined>>;
  /** Overrides `server.port` (0 = any free port). */
  port?: number;
  /** Default: no logging. */
  logger?: Logger;
  /** The process's Prometheus registry (its /metrics). Default: a new one. */
  metrics?: Registry;
  /** Stops the relay gracefully when it fires; the CLI wires SIGINT/SIGTERM to it. */
  stop?: AbortSignal;
}

/**
 * Runs a relay until `stop` fires, then waits for the graceful shutdown: what
 * `eventloom relay --config FILE` does, as a function for a process of your own.
 *
 * @example
 * const stop = new AbortController();
 * process.once('SIGTERM', () => stop.abort());
 * await runRelay({ config: 'relay.yaml', env: process.env, logger, stop: stop.signal });
 */
export async function runRelay(options: RunRelayOptions): Promise<void> {
  const log = options.logger ?? noopLogger;
  // Loaded on use, so that YAML and zod stay out of every other command's start-up.
  const { loadRelayConfig } = await import('./loadRelayConfig.js');
  const { startRelay } = await import('./relayRunner.js');
  const config = await loadRelayConfig(options.config, options.env, {
    pipelineVariables: 'required',
  });
  const { EVENTLOOM_RELAY_INSTANCE: instanceId, KAFKA_BROKERS: kafkaBrokers } = options.env;
  const handle = await startRelay(config, {
    log,
    ...(options.metrics !== undefined ? { metrics: options.metrics } : {}),
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(instanceId ? { instanceId } : {}),
    ...(kafkaBrokers ? { kafkaBrokers } : {}),
  });
  if (handle.port !== undefined) {
    log.info(
      {
        component: 'relay',
        health: `http://127.0.0.1:${handle.port}/health`,
        metrics: `http://127.0.0.1:${handle.port}/metrics`,
      },
      'relay health and metrics',
    );
  }
  const stop = (): void => void handle.stop();
  options.stop?.addEventListener('abort', stop, { once: true });
  try {
    await handle.done;
  } finally {
    options.stop?.removeEventListener('abort', stop);
  }
}
