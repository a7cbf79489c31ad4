import { type Command, InvalidArgumentError } from 'commander';
import { createLogger } from '../cli/logger.js';
import { ConfigurationError } from '../core/errors.js';

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
  const { loadRelayConfig: load } = await import('./loadRelayConfig.js');
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

/**
 * Adds `relay --config FILE` and `relay dlq list|replay` to the `eventloom` command.
 *
 * @example
 * registerRelayCommand(program);
 */
export function registerRelayCommand(program: Command): void {
  const relay = program
    .command('relay')
    .description(
      'stream MongoDB changes (or Eventloom events) through a pipeline to webhooks and Kafka, at least once',
    )
    .option('--config <file>', 'relay config: .yaml, .yml, .json, .js, .mjs or .ts')
    .option('--port <port>', 'port of /health and /metrics (overrides server.port; 0 = any)', port)
    .action(async (opts: { config?: string; port?: number }) => {
      const config = await loadRelayConfig(configPath(opts), { runsSteps: true });
      const { startRelay } = await import('./relayRunner.js');
      const log = createLogger();
      const handle = await startRelay(config, {
        log,
        ...(opts.port !== undefined ? { port: opts.port } : {}),
      });
      if (handle.port !== undefined) {
        log.info('relay health and metrics', {
          component: 'relay',
          health: `http://127.0.0.1:${handle.port}/health`,
          metrics: `http://127.0.0.1:${handle.port}/metrics`,
        });
      }
      let signals = 0;
      const onSignal = (signal: NodeJS.Signals): void => {
        signals++;
        if (signals > 1) {
          log.warn(
            'second signal: exiting now; unfinished deliveries are redelivered after restart',
            {
              component: 'relay',
              signal,
            },
          );
          process.exit(130);
        }
        log.info('signal received: graceful shutdown', { component: 'relay', signal });
        void handle.stop();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        await handle.done;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
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
      const { listDeadLetters } = await import('./relayDeadLetters.js');
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
      const { replayDeadLetters } = await import('./relayDeadLetters.js');
      const result = await replayDeadLetters(config, {
        ...(opts.key ? { keys: opts.key } : {}),
        ...(opts.maxAttempts !== undefined ? { maxAttempts: opts.maxAttempts } : {}),
      });
      process.stdout.write(JSON.stringify(result) + '\n');
      if (result.failed.length > 0) {
        throw new ConfigurationError(
          `${result.failed.length} dead letter(s) failed again and stay in the store; see \`eventloom relay dlq list\` for the reasons`,
        );
      }
    });
}
