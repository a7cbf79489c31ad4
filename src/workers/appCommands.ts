import { ConfigurationError, type WorkflowCommandHandler } from '../core/index.js';
import { APP_SERVICES, type AppServiceContext } from '../app/services/index.js';
import { createKafkaMessageSender, startKafkaConsumer } from '../kafka/index.js';
import type { AppExtensionContext } from '../server/index.js';
import { fromCommandEvent } from './remoteCommands.js';
import { appCommandsGroup, commandTopic } from './workerTopics.js';

/**
 * The command handlers of the shop's services, built from the same factories as in-process,
 * against the app: the app stays the only writer of its orders, stock and reservations.
 */
export function appCommandHandlers(
  context: AppServiceContext,
): ReadonlyMap<string, WorkflowCommandHandler> {
  const handlers = new Map<string, WorkflowCommandHandler>();
  for (const factory of Object.values(APP_SERVICES)) {
    for (const { commands } of factory(context).workflows) {
      for (const [type, handler] of Object.entries(commands)) {
        handlers.set(type, handler);
      }
    }
  }
  return handlers;
}

/**
 * The app's side of `EVENTLOOM_SERVICES=workers`: a consumer group on `<prefix>.commands`
 * that runs each command the workers send with the in-process handler, the command id as
 * idempotency key, so a redelivered command acts once. Its offset is committed only after
 * the handler succeeded; failures are retried, then parked in `<prefix>.commands.dlq`.
 */
export async function startAppCommands(
  context: AppExtensionContext,
  brokers: string,
): Promise<{ name: string; stop(): Promise<void> }> {
  const { app, config, logger } = context;
  const prefix = config.kafkaTopicPrefix;
  const log = logger.child({ component: 'app-commands' });
  const handlers = appCommandHandlers({
    store: context.store,
    shop: app.shop,
    inventory: app.shop.inventory,
    timers: context.privateDocuments,
    now: () => new Date(),
    config: config.services,
    logger: log,
  });
  const topic = commandTopic(prefix);
  // The workers may not have sent anything yet: the consumer needs the topic to subscribe.
  const sender = createKafkaMessageSender({ brokers, clientId: 'eventloom-app-commands' });
  try {
    await sender.ensureTopics([topic]);
  } finally {
    await sender.close();
  }
  const consumer = startKafkaConsumer({
    brokers,
    groupId: appCommandsGroup(prefix),
    topics: [topic],
    logger: log,
    metrics: context.metrics,
    handler: async (event) => {
      const command = fromCommandEvent(event);
      const handler = handlers.get(command.type);
      if (handler === undefined) {
        throw new ConfigurationError(
          `Command '${command.type}' from workflow '${command.workflow}' has no handler in this app; known: ${[...handlers.keys()].join(', ')}`,
          { details: { command: command.type, workflow: command.workflow } },
        );
      }
      await handler(command);
      log.debug(
        { command: command.type, id: command.id, workflow: command.workflow },
        'command run',
      );
    },
  });
  consumer.done.catch((error: unknown) => log.error({ error }, 'the command consumer stopped'));
  log.info({ topic, groupId: consumer.groupId }, "running the workers' commands");
  return {
    name: 'app-commands',
    stop: () => consumer.stop(),
  };
}
