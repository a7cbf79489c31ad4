import { join } from 'node:path';
import type { EmailSender } from './emailSender.js';
import { createOutboxEmailSender } from './outboxEmailSender.js';
import { createSmtpEmailSender } from './smtpEmailSender.js';

export interface EmailSenderConfig {
  /** `SMTP_URL`: send over SMTP there. Unset: write `.eml` files to `<dataDir>/outbox/`. */
  smtpUrl?: string | undefined;
  /** `EVENTLOOM_DATA`. */
  dataDir: string;
  from?: string;
}

/**
 * The app's mail, as configured: SMTP when `SMTP_URL` is set, else the outbox folder.
 *
 * @example
 * const mail = createEmailSender({ smtpUrl: process.env.SMTP_URL, dataDir: config.dataDir });
 */
export function createEmailSender(config: EmailSenderConfig): EmailSender {
  const from = config.from === undefined ? {} : { from: config.from };
  return config.smtpUrl !== undefined && config.smtpUrl !== ''
    ? createSmtpEmailSender({ url: config.smtpUrl, ...from })
    : createOutboxEmailSender({ dir: join(config.dataDir, 'outbox'), ...from });
}
