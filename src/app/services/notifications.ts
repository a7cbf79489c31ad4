import {
  defineWorkflow,
  type DocumentStore,
  ERASED,
  type EventStore,
  type Logger,
  ValidationError,
  type WorkflowClock,
} from '../../core/index.js';
import { emailMessageId, type EmailKind, type EmailSender } from '../emailSender.js';
import { orderShippedEmail, welcomeEmail } from '../emailTemplates.js';
import type { OrderEvent, OrderLine } from '../orderDecider.js';
import { toUserStream } from '../streamNames.js';
import { userDecider, type UserEvent } from '../userDecider.js';
import { type AppServiceFactory, serviceWorkflow } from './appService.js';

/** The document collection of the sent-log: one entry per Message-ID, written after the send. */
export const SENT_EMAILS = 'eventloom_sent_emails';

/**
 * One sent-log entry. It holds no personal data (no address, no name, no body), so it may
 * outlive an erased person: the user id is a pseudonym whose data key is gone.
 */
export interface SentEmailRecord {
  [key: string]: unknown;
  messageId: string;
  kind: EmailKind;
  userId: string;
  /** The event that caused the mail (its id is in the Message-ID). */
  causingEventId: string;
  /** `sent`: handed to SMTP or the outbox. `skipped`: nothing was sent, see `reason`. */
  status: 'sent' | 'skipped';
  reason?: 'recipient-erased';
  subject?: string;
  /** ISO time the entry was written. */
  at: string;
}

type NotificationInput =
  | Extract<UserEvent, { type: 'UserRegistered' }>
  | Extract<OrderEvent, { type: 'OrderPlaced' | 'OrderShipped' }>;

/** What the order-shipped mail shows: no personal field (the username stays in the store). */
interface OrderSummary {
  id: string;
  userId: string;
  items: OrderLine[];
  totalCents: number;
}

export type SendEmailCommand = {
  type: 'SendEmail';
  data:
    | { kind: 'welcome'; userId: string; causingEventId: string; date: string }
    | {
        kind: 'order-shipped';
        userId: string;
        causingEventId: string;
        date: string;
        order: OrderSummary & { shipmentId: string };
      };
};

interface NotificationState {
  order: OrderSummary | null;
}

/**
 * Decides which mail an event causes. An instance per user (`user.<id>`: the welcome) and per
 * order (`order.<id>`: it remembers the order's lines from `OrderPlaced` for the shipped
 * mail). Only ids, lines and totals are recorded: the recipient's address and name are read
 * from the store when the mail is sent, so an erased person gets nothing.
 */
export const notificationsWorkflow = defineWorkflow<
  NotificationState,
  NotificationInput,
  SendEmailCommand
>({
  name: 'notifications',
  inputs: ['UserRegistered', 'OrderPlaced', 'OrderShipped'],
  instanceOf: (input) =>
    input.type === 'UserRegistered' ? `user.${input.data.userId}` : `order.${input.data.orderId}`,
  initialState: () => ({ order: null }),
  recordedData(input) {
    switch (input.type) {
      case 'UserRegistered':
        return { userId: input.data.userId };
      case 'OrderPlaced': {
        const { orderId, userId, items, totalCents } = input.data;
        return { orderId, userId, items, totalCents };
      }
      case 'OrderShipped':
        return input.data;
    }
  },
  evolve(state, input) {
    if (input.type !== 'OrderPlaced') return state;
    const { orderId, userId, items, totalCents } = input.data;
    return { order: { id: orderId, userId, items, totalCents } };
  },
  decide(input, state, { now }) {
    // `now` is recorded with the command, so a redelivery sends the very same Date header.
    const date = now.toISOString();
    switch (input.type) {
      case 'UserRegistered':
        return [
          {
            kind: 'command',
            type: 'SendEmail',
            data: { kind: 'welcome', userId: input.data.userId, causingEventId: input.id, date },
          },
        ];
      case 'OrderPlaced':
        return [];
      case 'OrderShipped': {
        if (state.order === null) {
          // Retried, then parked where an operator sees it: never a silently lost mail.
          throw new ValidationError(
            `OrderShipped(${input.id}).data.orderId`,
            `order ${input.data.orderId} shipped but its OrderPlaced was never seen; the notifications service must read the order stream from its start`,
          );
        }
        const order = { ...state.order, shipmentId: input.data.shipmentId };
        return [
          {
            kind: 'command',
            type: 'SendEmail',
            data: {
              kind: 'order-shipped',
              userId: order.userId,
              causingEventId: input.id,
              date,
              order,
            },
          },
        ];
      }
    }
  },
});

/** What the notifications service needs besides the app's services context. */
export interface NotificationsDependencies {
  /** SMTP or the outbox (see `createEmailSender`). */
  mail: EmailSender;
  /** Where the sent-log lives (collection `eventloom_sent_emails`). */
  sentLog: DocumentStore;
}

type Recipient =
  { kind: 'found'; email: string; name: string; username: string } | { kind: 'erased' };

/** The user's current address and name, decrypted by the store; erased or deleted: none. */
async function recipientOf(store: EventStore, userId: string): Promise<Recipient> {
  const events = await store.readStream(toUserStream(userId));
  let state = userDecider.initialState();
  for (const event of events) state = userDecider.evolve(state, event as unknown as UserEvent);
  if (state.status === 'new') {
    // Thrown, so the input is retried and then parked: a worker's copy may still be behind.
    throw new ValidationError(
      `SendEmail.data.userId`,
      `user ${userId} is not in the store (yet); the mail waits until it is`,
    );
  }
  if (state.status === 'deleted' || state.email === ERASED || state.email === '') {
    return { kind: 'erased' };
  }
  return { kind: 'found', email: state.email, name: state.name, username: state.username };
}

/**
 * Sends one mail per causing event, recorded in the sent-log by its Message-ID. The log is
 * checked before sending and written after: a crash in between sends the same message again
 * with the same Message-ID (at-least-once, deduplicated by receivers; the outbox writes it
 * once). Never logs an address, a name or a body.
 */
export function sendEmailHandler(
  store: EventStore,
  deps: NotificationsDependencies,
  logger: Logger,
  now: WorkflowClock,
): (command: SendEmailCommand) => Promise<void> {
  return async ({ data }) => {
    const messageId = emailMessageId(data.kind, data.causingEventId);
    const fields = { messageId, kind: data.kind, userId: data.userId };
    const logged = await deps.sentLog.get<SentEmailRecord>(SENT_EMAILS, messageId);
    if (logged !== undefined) {
      logger.debug({ ...fields, status: logged.status }, 'mail already handled');
      return;
    }
    const base = {
      messageId,
      kind: data.kind,
      userId: data.userId,
      causingEventId: data.causingEventId,
    };
    const recipient = await recipientOf(store, data.userId);
    if (recipient.kind === 'erased') {
      const record: SentEmailRecord = {
        ...base,
        status: 'skipped',
        reason: 'recipient-erased',
        at: now().toISOString(),
      };
      await deps.sentLog.put(SENT_EMAILS, messageId, record);
      logger.info(fields, 'mail not sent: the recipient was erased');
      return;
    }
    const cause = { id: data.causingEventId, recordedAt: new Date(data.date) };
    const email =
      data.kind === 'welcome'
        ? welcomeEmail(recipient, recipient.username, cause)
        : orderShippedEmail(recipient, data.order, cause);
    const result = await deps.mail.send(email);
    const record: SentEmailRecord = {
      ...base,
      status: 'sent',
      subject: email.subject,
      at: now().toISOString(),
    };
    await deps.sentLog.put(SENT_EMAILS, messageId, record);
    logger.info({ ...fields, outcome: result.outcome }, 'mail sent');
  };
}

/**
 * The notifications service: a welcome mail after `UserRegistered`, a shipped mail after
 * `OrderShipped`, each once per event (see `sendEmailHandler`).
 *
 * @example
 * const service = notificationsService({ mail: createEmailSender(config), sentLog: documents })(context);
 */
export const notificationsService =
  (deps: NotificationsDependencies): AppServiceFactory =>
  (context) => ({
    name: 'notifications',
    workflows: [
      serviceWorkflow(notificationsWorkflow, {
        SendEmail: sendEmailHandler(
          context.store,
          deps,
          context.logger.child({ component: 'notifications' }),
          context.now,
        ),
      }),
    ],
  });

/** The sent-log entries of one user, newest first: what the development mailbox lists. */
export async function sentEmailsOf(
  sentLog: DocumentStore,
  userId: string,
): Promise<SentEmailRecord[]> {
  return sentLog.find<SentEmailRecord>(
    SENT_EMAILS,
    { userId },
    { sort: { field: 'at', direction: 'desc' } },
  );
}
