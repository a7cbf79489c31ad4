import { type InputHTMLAttributes, useId } from 'react';
import type { Problem } from '../api/types.ts';
import { fieldMessage } from './ProblemMessage.tsx';

interface FieldProps extends Omit<InputHTMLAttributes<HTMLInputElement>, 'onChange' | 'value'> {
  label: string;
  /** The request field this input fills (to show the API's error for it). */
  name: string;
  value: string;
  onChange: (value: string) => void;
  problem: Problem | undefined;
  hint?: string;
  multiline?: boolean;
}

/** A labelled input with its hint and the server's error for its field. */
export function Field({
  label,
  name,
  value,
  onChange,
  problem,
  hint,
  multiline,
  ...input
}: FieldProps) {
  const id = useId();
  const error = fieldMessage(problem, name);
  const describedBy = [hint ? `${id}-hint` : '', error ? `${id}-error` : '']
    .filter(Boolean)
    .join(' ');
  const common = {
    id,
    name,
    value,
    'aria-invalid': error !== undefined ? true : undefined,
    'aria-describedby': describedBy || undefined,
  };
  return (
    <div className={`field${error !== undefined ? ' field-invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {multiline ? (
        <textarea
          {...common}
          rows={3}
          maxLength={input.maxLength}
          required={input.required}
          placeholder={input.placeholder}
          onChange={(e) => onChange(e.target.value)}
        />
      ) : (
        <input {...input} {...common} onChange={(e) => onChange(e.target.value)} />
      )}
      {hint ? (
        <small id={`${id}-hint`} className="hint">
          {hint}
        </small>
      ) : null}
      {error !== undefined ? (
        <small id={`${id}-error`} className="field-error">
          {error}
        </small>
      ) : null}
    </div>
  );
}
