import { useEffect } from 'react';
import { Link } from '../components/Link.tsx';
import type { DevEmail } from '../api/types.ts';
import { ProblemMessage } from '../components/ProblemMessage.tsx';
import { RelativeTime } from '../components/RelativeTime.tsx';
import { commands, useAppState } from '../store/appStore.ts';

const KIND_LABELS: Record<DevEmail['kind'], string> = {
  welcome: 'Welcome',
  'order-shipped': 'Your order has shipped',
};

/** The emails the signed-in user received (development servers keep a mailbox). */
export function MailboxView() {
  const mailbox = useAppState((s) => s.mailbox);
  const session = useAppState((s) => s.session);
  const userId = session.user?.id;
  useEffect(() => {
    if (userId !== undefined) void commands.loadMailbox();
  }, [userId]);

  if (session.status === 'anonymous') {
    return (
      <p className="card">
        <Link to={{ name: 'login' }}>Log in</Link> to read your mail.
      </p>
    );
  }
  const emails = mailbox.data ?? [];
  return (
    <section aria-labelledby="mailbox-heading">
      <h1 id="mailbox-heading">Mailbox</h1>
      <p className="muted small">What this development server sent you (nothing left it).</p>
      <ProblemMessage problem={mailbox.status === 'failed' ? mailbox.problem : undefined} />
      {mailbox.available === false ? (
        <p className="muted">This server keeps no mailbox.</p>
      ) : mailbox.status === 'ready' && emails.length === 0 ? (
        <p className="muted">No emails yet.</p>
      ) : (
        <ol className="emails" aria-label="Emails">
          {emails.map((email) => (
            <li
              key={email.message_id}
              className="card email"
              data-kind={email.kind}
              data-status={email.status}
            >
              <h2 className="email-subject">{email.subject ?? KIND_LABELS[email.kind]}</h2>
              <p className="muted small">
                {email.status === 'sent' ? 'Sent' : `Not sent (${email.reason ?? 'skipped'})`} ·{' '}
                <RelativeTime iso={email.at} />
              </p>
              {email.raw !== null ? (
                <details>
                  <summary>The message as sent</summary>
                  <pre className="email-text">{email.raw}</pre>
                </details>
              ) : null}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
