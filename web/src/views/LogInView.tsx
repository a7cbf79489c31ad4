import type { FormEvent } from 'react';
import { Field } from '../components/Field.tsx';
import { Link } from '../components/Link.tsx';
import { ProblemMessage } from '../components/ProblemMessage.tsx';
import { commands } from '../store/appStore.ts';
import { useForm } from './useForm.ts';

export function LogInView({ username }: { username: string | undefined }) {
  const { values, set, pending, problem } = useForm('login', {
    username: username ?? '',
    password: '',
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void commands.logIn(values.username, values.password);
  };
  return (
    <section className="narrow">
      <h1>Log in</h1>
      <form onSubmit={onSubmit} aria-label="Log in" noValidate>
        <Field
          label="Username"
          name="username"
          value={values.username}
          onChange={set('username')}
          problem={problem}
          autoComplete="username"
          required
        />
        <Field
          label="Password"
          name="password"
          type="password"
          value={values.password}
          onChange={set('password')}
          problem={problem}
          autoComplete="current-password"
          required
          autoFocus={username !== undefined}
        />
        <ProblemMessage problem={problem} />
        <button type="submit" disabled={pending}>
          {pending ? 'Logging in…' : 'Log in'}
        </button>
      </form>
      <p>
        New here? <Link to={{ name: 'signup' }}>Sign up</Link>
      </p>
    </section>
  );
}
