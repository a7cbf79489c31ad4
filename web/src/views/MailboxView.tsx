import { useEffect } from 'react';
import { Link } from '../components/Link.tsx';
import { ProblemMessage } from '../components/ProblemMessage.tsx';
import { RelativeTime } from '../components/RelativeTime.tsx';
import { commands, useAppState } from '../store/appStore.ts';

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
            <li key={email.id} className="card email" data-kind={email.kind}>
              <h2 className="email-subject">{email.subject}</h2>
              <p className="muted small">
                To {email.to} · <RelativeTime iso={email.sent_at} />
              </p>
              {email.text !== undefined ? <pre className="email-text">{email.text}</pre> : null}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
