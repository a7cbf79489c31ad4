import { type Command, InvalidArgumentError } from 'commander';
import { ConfigurationError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { startCliTelemetry } from './cliTelemetry.js';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError(`'${value}' is not a port (0-65535)`);
  return n;
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new InvalidArgumentError(`'${value}' is not a whole number > 0`);
  return n;
}

/** Loaded on use, so that YAML and zod stay out of every other command's start-up. */
async function loadRelayConfig(path: string, options: { runsSteps: boolean }) {
  const { loadRelayConfig: load } = await import('../relay/loadRelayConfig.js');
  return load(path, process.env, {
    pipelineVariables: options.runsSteps ? 'required' : 'optional',
  });
}

function configPath(opts: { config?: string }): string {
  if (!opts.config) {
    throw new ConfigurationError(
      'the relay needs a config file: eventloom relay --config relay.yaml (YAML, JSON or a JS/TS module)',
    );
  }
  return opts.config;
}

/** The first SIGINT/SIGTERM stops gracefully; a second one ends the process at once. */
function stopOnSignals(log: Logger): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      log.warn(
        { component: 'relay', signal },
        'second signal: exiting now; unfinished deliveries are redelivered after restart',
      );
      process.exit(130);
    }
    log.info({ component: 'relay', signal }, 'signal received: graceful shutdown');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/**
 * Adds `relay --config FILE` and `relay dlq list|replay` to the `eventloom` command.
 *
 * @example
 * registerRelayCommand(program, () => logger);
 */
export function registerRelayCommand(program: Command, logger: () => Logger): void {
  const relay = program
    .command('relay')
    .description(
      'stream MongoDB changes (or Eventloom events) through a pipeline to webhooks and Kafka, at least once',
    )
    .option('--config <file>', 'relay config: .yaml, .yml, .json, .js, .mjs or .ts')
    .option('--port <port>', 'port of /health and /metrics (overrides server.port; 0 = any)', port)
    .action(async (opts: { config?: string; port?: number }) => {
      const config = configPath(opts);
      const log = logger();
      const { runRelay } = await import('../relay/runRelay.js');
      const { metrics, telemetry } = await startCliTelemetry('relay', log);
      const signals = stopOnSignals(log);
      try {
        await runRelay({
          config,
          env: process.env,
          logger: log,
          metrics,
          stop: signals.signal,
          ...(opts.port !== undefined ? { port: opts.port } : {}),
        });
      } finally {
        signals.dispose();
        await telemetry.shutdown();
      }
    });

  const dlq = relay.command('dlq').description('inspect and replay dead-lettered changes');
  dlq
    .command('list')
    .description('print dead letters as JSON lines, oldest first')
    .option('--config <file>', 'relay config')
    .option('--limit <n>', 'at most this many', positive)
    .action(async (_opts: unknown, command: Command) => {
      const opts = command.optsWithGlobals<{ config?: string; limit?: number }>();
      // Listing runs no step: it needs the state store, not the webhook secrets.
      const config = await loadRelayConfig(configPath(opts), { runsSteps: false });
      const { listDeadLetters } = await import('../relay/relayDeadLetters.js');
      const entries = await listDeadLetters(config, {
        ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
      });
      for (const e of entries) process.stdout.write(JSON.stringify(e) + '\n');
      process.stderr.write(`${entries.length} dead letter${entries.length === 1 ? '' : 's'}\n`);
    });
  dlq
    .command('replay')
    .description(
      'run dead letters through the current pipeline again; removes the ones that get through',
    )
    .option('--config <file>', 'relay config')
    .option('--key <key...>', 'only these idempotency keys (default: all)')
    .option('--max-attempts <n>', 'attempts per step during the replay', positive)
    .action(async (_opts: unknown, command: Command) => {
      const opts = command.optsWithGlobals<{
        config?: string;
        key?: string[];
        maxAttempts?: number;
      }>();
      const config = await loadRelayConfig(configPath(opts), { runsSteps: true });
      const { replayDeadLetters } = await import('../relay/relayDeadLetters.js');
      const brokers = process.env.KAFKA_BROKERS;
      const result = await replayDeadLetters(config, {
        log: logger(),
        ...(opts.key ? { keys: opts.key } : {}),
        ...(opts.maxAttempts !== undefined ? { maxAttempts: opts.maxAttempts } : {}),
        ...(brokers ? { kafkaBrokers: brokers } : {}),
      });
      process.stdout.write(JSON.stringify(result) + '\n');
      if (result.failed.length > 0) {
        throw new ConfigurationError(
          `${result.failed.length} dead letter(s) failed again and stay in the store; see \`eventloom relay dlq list\` for the reasons`,
        );
      }
    });
}
