import { type FormEvent, useEffect, useRef } from 'react';
import { Field } from '../components/Field.tsx';
import { Link } from '../components/Link.tsx';
import { ProblemMessage } from '../components/ProblemMessage.tsx';
import { RelativeTime } from '../components/RelativeTime.tsx';
import type { User } from '../api/types.ts';
import { commands, useAppState } from '../store/appStore.ts';
import { useForm } from './useForm.ts';

function ProfileForm({ user }: { user: User }) {
  const { values, set, setValues, pending, problem } = useForm('profile', {
    name: user.name,
    email: user.email ?? '',
  });
  // When the account changes (saved, or reloaded after someone else changed it), show the
  // server's values in the fields the user has not edited; keep the user's edits.
  const shown = useRef(user);
  useEffect(() => {
    const before = shown.current;
    shown.current = user;
    if (before === user) return;
    setValues((v) => ({
      name: v.name === before.name ? user.name : v.name,
      email: v.email === (before.email ?? '') ? (user.email ?? '') : v.email,
    }));
  }, [user, setValues]);
  const changes = {
    ...(values.name !== user.name ? { name: values.name } : {}),
    ...(values.email !== (user.email ?? '') ? { email: values.email } : {}),
  };
  const changed = Object.keys(changes).length > 0;
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void commands.saveProfile('profile', changes);
  };
  return (
    <form onSubmit={onSubmit} aria-label="Edit profile" className="card" noValidate>
      <h2>Profile</h2>
      <Field
        label="Name"
        name="name"
        value={values.name}
        onChange={set('name')}
        problem={problem}
        autoComplete="name"
        required
      />
      <Field
        label="Email"
        name="email"
        type="email"
        value={values.email}
        onChange={set('email')}
        problem={problem}
        autoComplete="email"
        required
      />
      <ProblemMessage problem={problem} />
      <button type="submit" disabled={pending || !changed}>
        {pending ? 'Saving…' : 'Save profile'}
      </button>
    </form>
  );
}

function PasswordForm() {
  const { values, set, pending, problem } = useForm('password', { current: '', next: '' });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void commands.saveProfile('password', {
      password: values.next,
      current_password: values.current,
    });
  };
  return (
    <form onSubmit={onSubmit} aria-label="Change password" className="card" noValidate>
      <h2>Password</h2>
      <Field
        label="Current password"
        name="current_password"
        type="password"
        value={values.current}
        onChange={set('current')}
        problem={problem}
        autoComplete="current-password"
        required
      />
      <Field
        label="New password"
        name="password"
        type="password"
        value={values.next}
        onChange={set('next')}
        problem={problem}
        autoComplete="new-password"
        required
        hint="At least 8 characters. Your other sessions end when it changes."
      />
      <ProblemMessage problem={problem} />
      <button type="submit" disabled={pending || values.current === '' || values.next === ''}>
        {pending ? 'Changing…' : 'Change password'}
      </button>
    </form>
  );
}

export function ProfileView() {
  const session = useAppState((s) => s.session);
  const profile = useAppState((s) => s.profile);
  const userId = session.user?.id;

  useEffect(() => {
    if (userId !== undefined) void commands.loadProfile();
  }, [userId]);

  if (session.status === 'unknown') return <p className="muted">Loading…</p>;
  if (session.user === undefined) {
    return (
      <section className="narrow">
        <h1>Profile</h1>
        <p>
          <Link to={{ name: 'login' }}>Log in</Link> to see your profile.
        </p>
      </section>
    );
  }
  const user = profile.data;
  return (
    <section className="narrow">
      <h1>@{session.user.username}</h1>
      <ProblemMessage problem={profile.status === 'failed' ? profile.problem : undefined} />
      {user === undefined ? (
        <p className="muted">Loading…</p>
      ) : (
        <>
          <dl className="facts">
            <dt>Member since</dt>
            <dd>
              <RelativeTime iso={user.created_at} />
            </dd>
            <dt>Role</dt>
            <dd>{session.user.role}</dd>
            <dt>Version</dt>
            <dd>
              {user.version}{' '}
              <Link to={{ name: 'stream', streamId: `user-${user.id}`, version: undefined }}>
                (its events)
              </Link>
            </dd>
          </dl>
          <ProfileForm user={user} />
          <PasswordForm />
          <p>
            <Link to={{ name: 'userFeed', username: session.user.username }}>Your tweets</Link>
          </p>
        </>
      )}
    </section>
  );
}
