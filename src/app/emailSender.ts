import { EventloomError, isEventloomError } from '../core/index.js';

/**
 * The port the shop's notifications send mail through. Adapters: `createSmtpEmailSender`
 * (a real SMTP server at `SMTP_URL`) and `createOutboxEmailSender` (`.eml` files in
 * `<EVENTLOOM_DATA>/outbox/` when there is no SMTP server); `createEmailSender` picks one.
 */

/** One message to send. Never log it: `to` and the body carry personal data. */
export interface OutgoingEmail {
  /**
   * The RFC 5322 Message-ID, angle brackets included: derive it with `emailMessageId` from
   * the event that causes the mail, so a redelivered event yields the same message.
   */
  messageId: string;
  to: { address: string; name?: string };
  subject: string;
  /** Plain text body. */
  text: string;
  /**
   * The message's Date: the causing event's time, so a redelivery produces the same bytes.
   * Default: now.
   */
  date?: Date;
}

export interface SentEmail {
  messageId: string;
  /**
   * `sent` — handed to the SMTP server or written to the outbox now. `already-sent` — the
   * outbox already held this Message-ID, so nothing was written (SMTP cannot tell: a
   * redelivery there is sent again with the same Message-ID, which receivers deduplicate).
   */
  outcome: 'sent' | 'already-sent';
}

export interface EmailSender {
  /** Throws `EmailDeliveryError` when the message could not be handed over; retry it. */
  send(email: OutgoingEmail): Promise<SentEmail>;
  /**
   * Destroys a message this sender still holds (the outbox's `.eml` file), for erasing its
   * recipient. `true` if there was one; SMTP holds nothing (the mail has left): `false`.
   */
  discard(messageId: string): Promise<boolean>;
  close(): Promise<void>;
}

/** The default From of the app's mail. */
export const DEFAULT_EMAIL_FROM = 'Eventloom Shop <no-reply@eventloom.invalid>';

/** What each kind of mail the app sends is called in its Message-ID. */
export type EmailKind = 'welcome' | 'order-shipped';

/**
 * A Message-ID that is the same for every delivery of the same event: `<kind.eventId@domain>`.
 *
 * @example
 * emailMessageId('welcome', event.id); // '<welcome.0190c2f1-…@eventloom.invalid>'
 */
export function emailMessageId(
  kind: EmailKind,
  causingEventId: string,
  domain = 'eventloom.invalid',
): string {
  // An id-left of atext and dots (RFC 5322 dot-atom): event ids are UUIDs, but be strict.
  const left = `${kind}.${causingEventId}`.replace(/[^A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]/g, '-');
  return `<${left}@${domain}>`;
}

/** The message could not be handed to the SMTP server or written to the outbox; retry it. */
export class EmailDeliveryError extends EventloomError {
  readonly messageId: string;
  constructor(messageId: string, message: string, options: { cause?: unknown } = {}) {
    super('DELIVERY_FAILED', message, { cause: options.cause, details: { messageId } });
    this.name = 'EmailDeliveryError';
    this.messageId = messageId;
  }
}

/** A driver error's `code` (and SMTP `responseCode`), which never quote the message's content. */
export function errorCodeOf(error: unknown): string {
  const { code, responseCode } = (error ?? {}) as { code?: unknown; responseCode?: unknown };
  const parts = [code, responseCode].filter(
    (p): p is string | number => typeof p === 'string' || typeof p === 'number',
  );
  return parts.length === 0 ? 'error' : parts.join(' ');
}

export function isEmailDeliveryError(error: unknown): error is EmailDeliveryError {
  return isEventloomError(error) && error.code === 'DELIVERY_FAILED';
}
