import type { OrderLine } from './orderDecider.js';
import { emailMessageId, type OutgoingEmail } from './emailSender.js';

/** Who gets the mail, from their decrypted personal data. Never log it. */
export interface Recipient {
  email: string;
  name: string;
}

/** The event a mail answers: its id makes the Message-ID, its time the Date. */
export interface CausingEvent {
  id: string;
  recordedAt: Date;
}

const signature = '\n\n— The Eventloom Shop\n';

/** After `UserRegistered`: a welcome. */
export function welcomeEmail(
  recipient: Recipient,
  username: string,
  cause: CausingEvent,
): OutgoingEmail {
  return {
    messageId: emailMessageId('welcome', cause.id),
    to: { address: recipient.email, name: recipient.name },
    subject: 'Welcome to the Eventloom Shop',
    text:
      `Hello ${recipient.name},\n\n` +
      `your account "${username}" is ready. Post to the feed, browse the shop, and follow ` +
      `every event you cause in the explorer.` +
      signature,
    date: cause.recordedAt,
  };
}

/** As the web shop shows money: US dollars. */
const dollars = (cents: number) => `$${(cents / 100).toFixed(2)}`;

/** After `OrderShipped`: what was sent. */
export function orderShippedEmail(
  recipient: Recipient,
  order: { id: string; items: readonly OrderLine[]; totalCents: number; shipmentId: string },
  cause: CausingEvent,
): OutgoingEmail {
  const lines = order.items
    .map((l) => `  ${l.quantity} × ${l.name} — ${dollars(l.quantity * l.unitPriceCents)}`)
    .join('\n');
  return {
    messageId: emailMessageId('order-shipped', cause.id),
    to: { address: recipient.email, name: recipient.name },
    subject: `Your order ${order.id.slice(0, 8)} has shipped`,
    text:
      `Hello ${recipient.name},\n\n` +
      `your order ${order.id} is on its way (shipment ${order.shipmentId}):\n\n` +
      `${lines}\n\n  Total ${dollars(order.totalCents)}` +
      signature,
    date: cause.recordedAt,
  };
}
