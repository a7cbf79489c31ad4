import type { Context } from 'hono';
import type { z } from 'zod';
import type { ApiEnv } from './apiEnv.js';
import { type FieldError, fieldOf, HttpProblem, pointerOf } from './problem.js';

/** Zod issues as field errors; each unknown key becomes its own error naming the key. */
export function issuesToErrors(
  issues: readonly z.core.$ZodIssue[],
  prefix: readonly PropertyKey[] = [],
  pointerPrefix = '',
): FieldError[] {
  const errors: FieldError[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const at = [...path, key];
        errors.push({
          pointer: pointerPrefix + pointerOf(at),
          field: fieldOf(at),
          message: 'is not a known field; remove it',
        });
      }
      continue;
    }
    errors.push({
      pointer: pointerPrefix + pointerOf(path),
      field: fieldOf(path) || '(body)',
      message: issue.message,
    });
  }
  return errors;
}

function describeErrors(errors: readonly FieldError[]): string {
  const shown = errors.slice(0, 3).map((e) => `${e.field}: ${e.message}`);
  return shown.join('; ') + (errors.length > 3 ? ` (and ${errors.length - 3} more)` : '');
}

/**
 * Reads and validates a JSON body: 415 for another content type, 400 for malformed JSON
 * (with the parser's reason) and for a body that does not match the schema (every invalid
 * field named). The size limit (413) is enforced before, by the body-limit middleware.
 */
export async function readJsonBody<S extends z.ZodType>(
  c: Context<ApiEnv>,
  schema: S,
): Promise<z.output<S>> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/([a-z0-9.+-]*\+)?json\s*(;|$)/i.test(type)) {
    throw new HttpProblem('unsupported-media-type', {
      detail: `Send the body as JSON with Content-Type: application/json${type ? ` (got ${type})` : ''}`,
    });
  }
  const text = await c.req.text();
  if (text.trim() === '') {
    throw new HttpProblem('malformed-json', {
      detail: 'The request body is empty; send a JSON object',
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new HttpProblem('malformed-json', {
      detail: `The request body is not valid JSON: ${(error as Error).message}`,
    });
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const errors = issuesToErrors(parsed.error.issues);
    throw new HttpProblem('validation-failed', { detail: describeErrors(errors), errors });
  }
  return parsed.data;
}

/** Validates query parameters (the last value of a repeated one counts; unknown ones are ignored). */
export function readQuery<S extends z.ZodType>(c: Context<ApiEnv>, schema: S): z.output<S> {
  const parsed = schema.safeParse(c.req.query());
  if (!parsed.success) {
    const errors = issuesToErrors(parsed.error.issues).map((e) => ({
      ...e,
      pointer: `query:${e.field}`,
      field: `query.${e.field}`,
    }));
    throw new HttpProblem('validation-failed', { detail: describeErrors(errors), errors });
  }
  return parsed.data;
}

/** Validates path parameters (a mismatch is a 404: no such resource can exist). */
export function readParams<S extends z.ZodType>(c: Context<ApiEnv>, schema: S): z.output<S> {
  const parsed = schema.safeParse(c.req.param());
  if (!parsed.success) {
    throw new HttpProblem('not-found', {
      detail: `Nothing exists at ${c.req.path}: ${describeErrors(issuesToErrors(parsed.error.issues))}`,
    });
  }
  return parsed.data;
}
