// Relay config problems as a person reads them: where (a path such as
// `pipeline[2].http.url`), what is wrong and how to fix it, all problems of a file at once.
import type { z } from 'zod';
import { ConfigurationError } from '../core/errors.js';

/** One thing wrong with a relay config. */
export interface Problem {
  path: string;
  message: string;
}

/** `base` and one more path segment, as a reader writes it: `a.b`, `a[0]`, `a["x y"]`. */
export function joinPath(base: string, segment: string | number): string {
  if (typeof segment === 'number') return `${base}[${segment}]`;
  if (/^[A-Za-z_$][\w$-]*$/.test(segment)) return base === '' ? segment : `${base}.${segment}`;
  return `${base}[${JSON.stringify(segment)}]`;
}

/** zod's issues under `base`, each as a path and a sentence. */
export function issuesToProblems(base: string, issues: readonly z.core.$ZodIssue[]): Problem[] {
  return issues.map((issue) => {
    let path = base;
    for (const seg of issue.path) path = joinPath(path, typeof seg === 'symbol' ? '?' : seg);
    return { path: path || '(root)', message: explain(issue) };
  });
}

function explain(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'unrecognized_keys':
      return `unknown option${issue.keys.length > 1 ? 's' : ''} ${issue.keys
        .map((k) => `'${k}'`)
        .join(', ')}; remove ${issue.keys.length > 1 ? 'them' : 'it'} or check the spelling`;
    case 'invalid_type':
      return `expected ${issue.expected}${
        issue.input === undefined ? ' (it is missing)' : `, got ${describe(issue.input)}`
      }`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}; got ${describe(
        issue.input,
      )}`;
    case 'invalid_key':
      return `key ${describe(issue.origin === 'map' ? undefined : (issue as { input?: unknown }).input)} ${issue.issues
        .map((i) => i.message)
        .join('; ')}`;
    case 'invalid_union':
      return `does not match any allowed form: ${issue.errors
        .map((errs) =>
          errs
            .map((e) => `${e.path.map(String).join('.') || 'value'} ${explain(e)}`)
            .slice(0, 2)
            .join('; '),
        )
        .join(' | or | ')}`;
    default:
      return issue.message;
  }
}

/** A short description of a value the config holds where it should not. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string')
    return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return `${typeof value} ${value}`;
  return typeof value === 'object' || typeof value === 'function' ? 'an object' : typeof value;
}

/** One ConfigurationError listing every problem as `path: what is wrong; how to fix it`. */
export function configError(problems: Problem[]): ConfigurationError {
  const lines = problems.map((p) => `  - ${p.path}: ${p.message}`);
  return new ConfigurationError(
    `invalid relay config (${problems.length} problem${problems.length > 1 ? 's' : ''}):\n${lines.join('\n')}`,
    { details: { problems } },
  );
}
