import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Subscription, SubscriptionStatus } from '../core/index.js';
import {
  type AppExtension,
  type AppExtensionContext,
  loadAppConfig,
  runApp,
} from '../server/index.js';
import { PACKAGE_ROOT } from '../server/appConfig.js';
import type { Logger } from '../core/logger.js';
import { registryGauge } from '../node/metricsRegistry.js';
import { startCliTelemetry } from './cliTelemetry.js';

function packageVersion(): string {
  try {
    return (
      JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }
    ).version;
  } catch {
    return '0.0.0';
  }
}

const PUBLISH_LAG = 'eventloom_kafka_publish_lag_events';

/**
 * With KAFKA_BROKERS set, every event is published to `eventloom.<category>` by the store's
 * own durable subscription (the store is the outbox); its lag shows in /api/subscriptions.
 */
async function kafkaPublisherExtension(
  { storedEvents, registry, logger, metrics, config }: AppExtensionContext,
  brokers: string,
): Promise<{ name: string; stop(): Promise<void> }> {
  const { startKafkaPublisher } = await import('../kafka/index.js');
  const { eventTopicFor } = await import('../workers/index.js');
  const publisher = startKafkaPublisher({
    // As stored: topics carry personal fields encrypted, so a forget reaches them too.
    store: storedEvents,
    brokers,
    topicFor: eventTopicFor(config.kafkaTopicPrefix),
    logger: logger.child({ component: 'kafka-publisher' }),
    metrics,
  });
  const states: Record<string, SubscriptionStatus['state']> = {
    starting: 'starting',
    'catching-up': 'catching-up',
    retrying: 'catching-up',
    live: 'live',
    stopping: 'live',
    stopped: 'stopped',
    failed: 'failed',
  };
  const asSubscription: Subscription = {
    name: publisher.name,
    done: publisher.done,
    // Only listed in /api/subscriptions; nothing waits for the publisher to start.
    started: Promise.resolve(),
    waitFor: (position, timeoutMs) => publisher.waitFor(position, timeoutMs),
    stop: () => publisher.stop(),
    status: () => {
      const s = publisher.status();
      return {
        name: s.name,
        state: states[s.state] ?? 'live',
        position: s.position,
        processed: s.published,
        parked: s.parked,
        ...(s.lastError !== undefined ? { error: s.lastError } : {}),
      };
    },
  };
  const remove = registry.add('publisher', () => [asSubscription]);
  registryGauge(metrics, {
    name: PUBLISH_LAG,
    help: 'Events stored and not yet acknowledged by Kafka.',
    labelNames: ['publisher'],
    async collect() {
      const head = await storedEvents.headPosition();
      this.set({ publisher: publisher.name }, Math.max(0, head - publisher.status().position));
    },
  });
  logger.info({ brokers, subscription: publisher.name }, 'publishing events to Kafka');
  return {
    name: publisher.name,
    async stop() {
      remove();
      metrics.removeSingleMetric(PUBLISH_LAG);
      await publisher.stop();
    },
  };
}

/** Resolves with the first SIGINT or SIGTERM; a second one ends the process at once. */
export function nextSignal(log: Logger): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const first = (signal: NodeJS.Signals) => {
      process.off('SIGINT', first);
      process.off('SIGTERM', first);
      const again = (s: NodeJS.Signals) => {
        log.warn({ signal: s }, 'second signal: exiting without finishing the shutdown');
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
  const brokers = config.kafkaBrokers;
  if (brokers !== undefined) {
    extensions.push((context) => kafkaPublisherExtension(context, brokers));
    if (config.serviceMode === 'workers') {
      extensions.push(async (context) => {
        const { startAppCommands } = await import('../workers/index.js');
        return startAppCommands(context, brokers);
      });
    }
  }
  const { metrics, telemetry } = await startCliTelemetry('start', log);
  try {
    const running = await runApp({
      config,
      logger: log,
      extensions,
      metrics,
      version: packageVersion(),
    });
    process.stdout.write(`Eventloom is running at ${running.url} (Ctrl+C to stop)\n`);
    const signal = await nextSignal(log);
    log.info({ signal }, 'shutting down');
    await running.close();
  } finally {
    await telemetry.shutdown();
  }
}
