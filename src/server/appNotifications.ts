import { createEmailSender, type EmailSender, type ReferenceApp } from '../app/index.js';
import { DEFAULT_APP_SERVICES_CONFIG, runAppServices } from '../app/services/index.js';
import { notificationsService } from '../app/services/notifications.js';
import type { DocumentStore, EventStore, Logger, Subscription } from '../core/index.js';
import type { AppConfig } from './appConfig.js';
import type { AnyWorkflow } from './workflowRoutes.js';

export interface RunningNotifications {
  readonly mail: EmailSender;
  readonly subscriptions: readonly Subscription[];
  /** Its workflows, for the explorer's instance views. */
  readonly workflows: readonly AnyWorkflow[];
  stop(): Promise<void>;
}

/**
 * The notifications service in this process, on the app's store: the mail goes to
 * `config.smtpUrl` or `<dataDir>/outbox/`, and the sent-log lives in the private documents
 * (beside the credentials: nobody reads it but the dev mailbox).
 */
export function startNotifications(
  config: AppConfig,
  app: ReferenceApp,
  store: EventStore,
  privateDocuments: DocumentStore,
  logger: Logger,
): RunningNotifications {
  const mail = createEmailSender({ smtpUrl: config.smtpUrl, dataDir: config.dataDir });
  const context = {
    store,
    shop: app.shop,
    inventory: app.shop.inventory,
    timers: privateDocuments,
    now: () => new Date(),
    config: DEFAULT_APP_SERVICES_CONFIG,
    logger,
  };
  const service = notificationsService({ mail, sentLog: privateDocuments })(context);
  const running = runAppServices([service], context);
  logger.info(
    { service: 'notifications', mail: config.smtpUrl === undefined ? 'outbox' : 'smtp' },
    'notifications started',
  );
  return {
    mail,
    subscriptions: running.runners.map((r) => r.subscription),
    workflows: service.workflows.map((w) => w.workflow),
    async stop() {
      await running.stop();
      await mail.close();
    },
  };
}
