import type { Logger } from '../core/logger.js';
import { isMetricsRegistry, type Registry } from '../node/metricsRegistry.js';
import { z } from 'zod';
import { closestName } from '../core/closestName.js';
import { ValidationError } from '../core/errors.js';
import { MAX_TIMER_MS } from '../core/optionChecks.js';
import { describe } from '../core/validation.js';
import { isValidTopicName } from './kafkaMessage.js';

/**
 * Building blocks of the strict option schemas of `eventloom/kafka` and the one way their
 * problems are reported: a {@link ValidationError} naming the option path, what is wrong and
 * what is allowed, with a "did you mean" for misspelt or misplaced keys.
 */

/** A whole number of milliseconds, at least `min`, and short enough for a JavaScript timer. */
export const millis = (min = 0): z.ZodNumber => z.number().int().min(min).max(MAX_TIMER_MS);

export const positiveInt = (): z.ZodNumber => z.number().int().min(1);

export const nonEmptyString = (what: string): z.ZodString =>
  z.string().refine((s) => s.trim() !== '', `must be a non-empty string ${what}`);

/** A value checked by `typeof v === 'function'`; `signature` says what is expected. */
export const fn = <T>(signature: string): z.ZodType<T> =>
  z.custom<T>((v) => typeof v === 'function', `must be a function ${signature}`);

export const loggerOption = (): z.ZodType<Logger> =>
  z.custom<Logger>(
    (v) =>
      typeof v === 'object' &&
      v !== null &&
      ['debug', 'info', 'warn', 'error', 'child'].every(
        (m) => typeof (v as Record<string, unknown>)[m] === 'function',
      ),
    'must be a Logger { debug, info, warn, error, child } (pino fits)',
  );

export const registryOption = (): z.ZodType<Registry> =>
  z.custom<Registry>(isMetricsRegistry, 'must be a prom-client Registry');

export const topicName = (): z.ZodString =>
  z
    .string()
    .refine(
      isValidTopicName,
      'is not a Kafka topic name (1–249 characters of letters, digits, ".", "_" and "-")',
    );

/** How missing topics are created (`TopicSettings`), or `false` to require them. */
export const createTopicsSchema = z
  .union([
    z.literal(false),
    z.strictObject({
      partitions: positiveInt().optional(),
      replicationFactor: positiveInt().optional(),
      configs: z.record(z.string(), z.string()).optional(),
    }),
  ])
  .optional();

/** `brokers` / `client`; their details are checked by `resolveConnection`. */
export const connectionShape = {
  brokers: z.union([z.string(), z.array(z.string())]).optional(),
  client: z
    .custom<object>(
      (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
      'must be Kafka client settings ({ bootstrapBrokers, tls, sasl, … })',
    )
    .optional(),
};

/**
 * Checks `input` against `schema`. `moved` maps keys people write by habit (or that other
 * clients use) to the option that does it here, e.g. `{ maxAttempts: 'retry.maxAttempts' }`.
 *
 * @throws ValidationError naming the first problem's path; every problem is in the message
 *   and in `details.problems`.
 */
export function parseOptions<S extends z.ZodType>(
  schema: S,
  input: unknown,
  moved: Readonly<Record<string, string>> = {},
): z.output<S> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ValidationError('options', `must be an object; got ${describe(input)}`);
  }
  const parsed = schema.safeParse(input, { reportInput: true });
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.flatMap((issue) => toProblems(schema, issue, moved));
  const [first, ...rest] = problems as [Problem, ...Problem[]];
  const more = rest.map((p) => `; ${p.path}: ${p.message}`).join('');
  throw new ValidationError(first.path, first.message + more, {
    cause: parsed.error,
    details: { problems },
  });
}

interface Problem {
  path: string;
  message: string;
}

function joinPath(segments: readonly PropertyKey[]): string {
  let out = 'options';
  for (const s of segments) {
    out += typeof s === 'number' ? `[${s}]` : `.${String(s)}`;
  }
  return out;
}

function toProblems(
  schema: z.ZodType,
  issue: z.core.$ZodIssue,
  moved: Readonly<Record<string, string>>,
): Problem[] {
  const path = joinPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeys(schema, issue.path);
    return issue.keys.map((key) => {
      const atRoot = issue.path.length === 0;
      const target =
        (atRoot ? moved[key] : undefined) ??
        closestName(key, known, Math.max(2, Math.floor(key.length / 3)));
      const hint = target === undefined ? '' : ` — did you mean '${target}'?`;
      return {
        path: `${path}.${key}`,
        message: `is not an option${hint === '' ? '.' : hint} Valid options here: ${known.join(', ')}`,
      };
    });
  }
  return [{ path, message: explain(issue, path) }];
}

function explain(issue: z.core.$ZodIssue, path: string): string {
  const input = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case 'invalid_type': {
      const expected = issue.expected === 'int' ? 'an integer' : issue.expected;
      const unit =
        path.endsWith('Ms') && typeof input === 'string'
          ? ' (milliseconds as a number, e.g. 5000)'
          : '';
      return `expected ${expected}${unit}; got ${describe(input)}`;
    }
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}; got ${describe(input)}`;
    case 'too_small':
      if (issue.origin === 'array') return `must list at least ${issue.minimum} item(s)`;
      return `must be ${issue.inclusive === false ? '>' : '>='} ${issue.minimum}; got ${describe(input)}`;
    case 'too_big':
      if (issue.origin === 'number' && Number(issue.maximum) === MAX_TIMER_MS)
        return `must be at most ${MAX_TIMER_MS} ms (about 24.8 days): JavaScript fires a longer timer at once; got ${describe(input)}`;
      return `must be ${issue.inclusive === false ? '<' : '<='} ${issue.maximum}; got ${describe(input)}`;
    case 'invalid_union':
      return `${issue.message}; got ${describe(input)}`;
    default:
      return input === undefined ? issue.message : `${issue.message}; got ${describe(input)}`;
  }
}

/** The keys of the strict object `path` leads to in `schema`. */
function knownKeys(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let current: unknown = schema;
  for (const segment of [...path, undefined]) {
    for (;;) {
      if (current instanceof z.ZodOptional || current instanceof z.ZodNullable) {
        current = current.unwrap();
      } else if (current instanceof z.ZodUnion) {
        current = (current.options as unknown[]).find((o) => o instanceof z.ZodObject);
      } else if (current instanceof z.ZodPipe) {
        current = current.in;
      } else break;
    }
    if (!(current instanceof z.ZodObject)) return [];
    if (segment === undefined) return Object.keys(current.shape);
    current = (current.shape as Record<PropertyKey, unknown>)[segment];
  }
  return [];
}
