import type { FormEvent } from 'react';
import { Field } from '../components/Field.tsx';
import { Link } from '../components/Link.tsx';
import { ProblemMessage } from '../components/ProblemMessage.tsx';
import { commands } from '../store/appStore.ts';
import { useForm } from './useForm.ts';

export function SignUpView() {
  const { values, set, pending, problem } = useForm('signup', {
    username: '',
    email: '',
    name: '',
    password: '',
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void commands.signUp(values);
  };
  return (
    <section className="narrow">
      <h1>Sign up</h1>
      <form onSubmit={onSubmit} aria-label="Sign up" noValidate>
        <Field
          label="Username"
          name="username"
          value={values.username}
          onChange={set('username')}
          problem={problem}
          autoComplete="username"
          required
          hint="3–32 letters, digits, “.”, “_” or “-”"
        />
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
        <Field
          label="Password"
          name="password"
          type="password"
          value={values.password}
          onChange={set('password')}
          problem={problem}
          autoComplete="new-password"
          required
          hint="At least 8 characters"
        />
        <ProblemMessage problem={problem} />
        <button type="submit" disabled={pending}>
          {pending ? 'Creating your account…' : 'Create account'}
        </button>
      </form>
      <p>
        Have an account? <Link to={{ name: 'login' }}>Log in</Link>
      </p>
    </section>
  );
}
