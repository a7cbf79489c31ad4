import { createTransport } from 'nodemailer';
import {
  DEFAULT_EMAIL_FROM,
  EmailDeliveryError,
  type EmailSender,
  errorCodeOf,
} from './emailSender.js';
import { mailOptionsOf } from './mailOptions.js';

export interface SmtpEmailSenderOptions {
  /** e.g. `smtp://127.0.0.1:1025`, `smtps://user:pass@mail.example.com:465`. */
  url: string;
  /** Default `DEFAULT_EMAIL_FROM`. */
  from?: string;
  /** Connect, greeting and socket timeouts in ms. Default 10000. */
  timeoutMs?: number;
}

/** The server's address without credentials, for messages and logs. */
function serverOf(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}`;
  } catch {
    return '(an unparsable SMTP_URL)';
  }
}

/**
 * Sends through an SMTP server. A redelivered message is sent again with the same
 * Message-ID (SMTP has no way to ask whether it was sent); receivers deduplicate by it.
 *
 * @example
 * const mail = createSmtpEmailSender({ url: process.env.SMTP_URL! });
 * await mail.send(welcomeEmail(recipient, username, event));
 */
export function createSmtpEmailSender(options: SmtpEmailSenderOptions): EmailSender {
  const timeout = options.timeoutMs ?? 10_000;
  const from = options.from ?? DEFAULT_EMAIL_FROM;
  const server = serverOf(options.url);
  const transport = createTransport({
    url: options.url,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
  });
  return {
    async send(email) {
      try {
        await transport.sendMail(mailOptionsOf(email, from));
      } catch (error) {
        // The driver's own message may quote the recipient: keep it only as the cause.
        throw new EmailDeliveryError(
          email.messageId,
          `The SMTP server at ${server} did not take mail ${email.messageId} (${errorCodeOf(error)}); retry it, and check SMTP_URL and that the server runs`,
          { cause: error },
        );
      }
      return { messageId: email.messageId, outcome: 'sent' };
    },
    discard() {
      // Handed over is gone: erasing mail already delivered is the receiver's business.
      return Promise.resolve(false);
    },
    close() {
      transport.close();
      return Promise.resolve();
    },
  };
}
