import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { outboxFileName } from '../app/index.js';
import { sentEmailsOf } from '../app/services/notifications.js';
import type { DocumentStore } from '../core/index.js';
import { DevEmailList, type ApiDevEmail } from './apiResponseSchemas.js';
import { DevEmailQuery } from './apiSchemas.js';
import type { ApiRouter } from './apiRouter.js';
import { HttpProblem } from './problem.js';

/** The development mailbox: where its data is. */
export interface DevMailbox {
  /** The notifications' sent-log (collection `eventloom_sent_emails`). */
  sentLog: DocumentStore;
  /** The outbox folder, in outbox mode: each entry then shows its `.eml` as `raw`. */
  outboxDir?: string;
}

async function rawOf(outboxDir: string | undefined, messageId: string): Promise<string | null> {
  if (outboxDir === undefined) return null;
  try {
    return await readFile(join(outboxDir, outboxFileName(messageId)), 'utf8');
  } catch {
    return null;
  }
}

/**
 * `GET /api/dev/emails`: the mail the app sent to the signed-in user (admins: `?user=` anyone),
 * from the sent-log, never another user's mail. Only registered when the mailbox is on.
 */
export function registerDevMailRoutes(router: ApiRouter, mailbox: DevMailbox): void {
  router.route(
    {
      method: 'get',
      path: '/api/dev/emails',
      operationId: 'listDevEmails',
      summary: 'Development mailbox: the mail sent to you',
      description:
        'On when DEV_MAILBOX is on (default: when there is no SMTP_URL, so mail goes to the outbox folder).',
      tags: ['development'],
      auth: 'required',
      query: DevEmailQuery,
      responses: {
        200: { description: 'The mail, newest first', schema: DevEmailList },
        403: { description: 'Another user’s mailbox, and you are not an admin' },
      },
    },
    async (c, { query, actor }) => {
      const userId = query.user ?? actor.userId;
      if (userId !== actor.userId && actor.role !== 'admin') {
        throw new HttpProblem('forbidden', { detail: 'Only admins may read another user’s mail' });
      }
      const records = await sentEmailsOf(mailbox.sentLog, userId);
      const emails: ApiDevEmail[] = [];
      for (const r of records) {
        emails.push({
          message_id: r.messageId,
          kind: r.kind,
          status: r.status,
          reason: r.reason ?? null,
          subject: r.subject ?? null,
          at: r.at,
          raw: r.status === 'sent' ? await rawOf(mailbox.outboxDir, r.messageId) : null,
        });
      }
      return c.json({ emails }, 200);
    },
  );
}
