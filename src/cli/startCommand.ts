import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AppExtension, loadAppConfig, runApp } from '../server/index.js';
import { PACKAGE_ROOT } from '../server/appConfig.js';
import type { Logger } from './logger.js';

function packageVersion(): string {
  try {
    return (
      JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }
    ).version;
  } catch {
    return '0.0.0';
  }
}

/** Resolves with the first SIGINT or SIGTERM; a second one ends the process at once. */
function nextSignal(log: Logger): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const first = (signal: NodeJS.Signals) => {
      process.off('SIGINT', first);
      process.off('SIGTERM', first);
      const again = (s: NodeJS.Signals) => {
        log.warn('second signal: exiting without finishing the shutdown', { signal: s });
        process.exit(130);
      };
      process.once('SIGINT', again);
      process.once('SIGTERM', again);
      resolve(signal);
    };
    process.once('SIGINT', first);
    process.once('SIGTERM', first);
  });
}

/**
 * `eventloom start`: the reference app and its API until SIGINT/SIGTERM, then a graceful
 * shutdown (requests in flight finish, projections store their checkpoints, the store closes).
 */
export async function startCommand(
  flags: { data?: string; port?: number; host?: string },
  log: Logger,
): Promise<void> {
  const config = loadAppConfig(process.env, flags);
  const extensions: AppExtension[] = [];
  // Kafka hook: with KAFKA_BROKERS set, the Kafka publisher is pushed onto `extensions` here
  // (it gets the store and registers its subscription in the registry for /api/subscriptions).
  if (config.kafkaBrokers !== undefined && extensions.length === 0) {
    log.warn(
      'KAFKA_BROKERS is set, but this build has no Kafka publisher; events are not published',
      {
        brokers: config.kafkaBrokers,
      },
    );
  }
  const running = await runApp({ config, logger: log, extensions, version: packageVersion() });
  process.stdout.write(`Eventloom is running at ${running.url} (Ctrl+C to stop)\n`);
  const signal = await nextSignal(log);
  log.info('shutting down', { signal });
  await running.close();
}
