import type { SendMailOptions } from 'nodemailer';
import type { OutgoingEmail } from './emailSender.js';

/**
 * The nodemailer message both adapters build, so SMTP and the outbox carry the same RFC 5322
 * bytes. A text-only message has no random MIME boundary, and with the Date and Message-ID
 * fixed by the causing event the bytes are the same on every delivery.
 */
export function mailOptionsOf(email: OutgoingEmail, from: string): SendMailOptions {
  return {
    from,
    to: email.to.name === undefined ? email.to.address : { ...email.to, name: email.to.name },
    subject: email.subject,
    text: email.text,
    messageId: email.messageId,
    date: email.date ?? new Date(),
  };
}
