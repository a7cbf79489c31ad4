import type { Command } from 'commander';
import { ConfigurationError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';

/** Loaded on use: the app and its drivers stay out of every other command's start-up. */
async function load() {
  const [config, run, kafka, workers] = await Promise.all([
    import('../server/appConfig.js'),
    import('../server/runApp.js'),
    import('../kafka/kafkaRepublish.js'),
    import('../workers/index.js'),
  ]);
  return {
    loadAppConfig: config.loadAppConfig,
    openStores: run.openStores,
    republishParked: kafka.republishParked,
    eventTopicFor: workers.eventTopicFor,
  };
}

// PUBLISHER_DEFAULTS.name, spelled out: importing the publisher's options here would load
// them (and zod) at every command's start-up, for a help text.
const DEFAULT_NAME = 'kafka-publisher';

/**
 * `eventloom kafka parked list|republish`: the events the reference app's Kafka publisher
 * parked (too large for their topic, say), on the store `eventloom start` would use (same env:
 * EVENTLOOM_DATA, EVENTLOOM_STORE, KAFKA_BROKERS, KAFKA_TOPIC_PREFIX).
 */
export function registerKafkaCommand(program: Command, log: () => Logger): void {
  const kafka = program.command('kafka').description("the reference app's Kafka publisher");
  const parked = kafka
    .command('parked')
    .description('events the publisher could not publish, and publishing them again');

  parked
    .command('list')
    .description('print parked events as JSON lines, oldest first (without their data)')
    .option('--data <dir>', 'data folder for the embedded store')
    .option('--name <publisher>', "the publisher's name", DEFAULT_NAME)
    .action(async (opts: { data?: string; name: string }) => {
      const { loadAppConfig, openStores } = await load();
      const opened = await openStores(loadAppConfig(process.env, opts), log());
      try {
        const entries = (await opened.storedEvents.checkpoints.listParked(opts.name)).sort(
          (a, b) => a.event.position - b.event.position,
        );
        for (const { event, reason, attempts, parkedAt } of entries) {
          const line = {
            eventId: event.id,
            position: event.position,
            streamId: event.streamId,
            type: event.type,
            reason,
            attempts,
            parkedAt: parkedAt.toISOString(),
          };
          process.stdout.write(JSON.stringify(line) + '\n');
        }
        process.stderr.write(`${entries.length} parked event${entries.length === 1 ? '' : 's'}\n`);
      } finally {
        for (const close of opened.close.reverse()) await close();
      }
    });

  parked
    .command('republish')
    .description(
      'publish parked events as the publisher would; unparks those Kafka acknowledged (needs KAFKA_BROKERS)',
    )
    .option('--data <dir>', 'data folder for the embedded store')
    .option('--name <publisher>', "the publisher's name", DEFAULT_NAME)
    .option('--id <eventId...>', 'only these events (default: all)')
    .action(async (opts: { data?: string; name: string; id?: string[] }) => {
      const brokers = process.env.KAFKA_BROKERS;
      if (brokers === undefined || brokers.trim() === '') {
        throw new ConfigurationError(
          'KAFKA_BROKERS is not set: give the brokers the app publishes to, e.g. KAFKA_BROKERS=127.0.0.1:9092 (npm run services:up starts one there)',
        );
      }
      const { loadAppConfig, openStores, republishParked, eventTopicFor } = await load();
      const config = loadAppConfig(process.env, opts);
      const opened = await openStores(config, log());
      try {
        const result = await republishParked({
          // As the app's publisher reads it: personal fields sealed.
          store: opened.storedEvents,
          brokers,
          name: opts.name,
          topicFor: eventTopicFor(config.kafkaTopicPrefix),
          ...(opts.id ? { eventIds: opts.id } : {}),
        });
        process.stdout.write(JSON.stringify(result) + '\n');
        const problems = [
          ...(result.failed.length > 0
            ? [
                `${result.failed.length} event(s) failed again and stay parked (the reasons are in the output)`,
              ]
            : []),
          ...(result.notParked.length > 0
            ? [`not parked under '${opts.name}': ${result.notParked.join(', ')}`]
            : []),
        ];
        if (problems.length > 0) throw new ConfigurationError(problems.join('; '));
      } finally {
        for (const close of opened.close.reverse()) await close();
      }
    });
}
