import { useEffect, useState } from 'react';
import type { FormId, FormState } from '../store/appState.ts';
import { commands, useAppState } from '../store/appStore.ts';

const IDLE: FormState = { pending: false, succeeded: 0 };

/**
 * A form's inputs (local: only this form reads them) and its submission state (in the store).
 * The inputs reset to `initial` after each successful submission; a form's old problem is
 * cleared when the form is shown anew.
 */
export function useForm<V extends Record<string, string>>(form: FormId, initial: V) {
  const [values, setValues] = useState<V>(initial);
  const state = useAppState((s) => s.forms[form] ?? IDLE);
  const { succeeded } = state;

  useEffect(() => {
    if (succeeded > 0) setValues(initial);
    // Reset only on a new success (`initial` is a new object on every render).
  }, [succeeded]);

  useEffect(() => () => commands.clearForm(form), [form]);

  const set = (name: keyof V) => (value: string) => setValues((v) => ({ ...v, [name]: value }));
  return { values, set, setValues, pending: state.pending, problem: state.problem };
}
