import type { FieldError, Problem } from '../api/types.ts';

/** How the API sums field errors up in `detail` (see requestInput.ts): no need to show both. */
const summary = (errors: readonly FieldError[]): string =>
  errors
    .slice(0, 3)
    .map((e) => `${e.field}: ${e.message}`)
    .join('; ');

/** A problem the API answered, next to the form or list it concerns. */
export function ProblemMessage({ problem, id }: { problem: Problem | undefined; id?: string }) {
  if (problem === undefined) return null;
  const errors = problem.errors ?? [];
  const showDetail = errors.length === 0 || !problem.detail.startsWith(summary(errors));
  const showErrors =
    errors.length > 1 || (errors.length === 1 && errors[0]?.message !== problem.detail);
  return (
    <div className="problem" role="alert" id={id}>
      <strong>{problem.title}</strong>
      {showDetail ? <p>{problem.detail}</p> : null}
      {showErrors ? (
        <ul>
          {errors.map((e) => (
            <li key={`${e.pointer}:${e.message}`}>
              <code>{e.field}</code> {e.message}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

/** The message of the problem's error for one field, if any. */
export function fieldMessage(problem: Problem | undefined, field: string): string | undefined {
  const matches = (problem?.errors ?? []).filter(
    (e) => e.field === field || e.field.startsWith(`${field}.`) || e.field.startsWith(`${field}[`),
  );
  return matches.length === 0 ? undefined : matches.map((e) => e.message).join('; ');
}
