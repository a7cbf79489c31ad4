import { z } from 'zod';
import type { ProjectionTarget } from '../core/readModel.js';
import { nonEmptyString, parseOptions } from './kafkaOptionsSchema.js';
import type { ProcessedEventsOptions } from './processedEvents.js';

const target = z.unknown().superRefine((value, ctx) => {
  const t = value as Partial<ProjectionTarget> | null | undefined;
  if (typeof t?.commit !== 'function' || typeof t.documents?.get !== 'function') {
    ctx.addIssue({
      code: 'custom',
      message: 'must be a ProjectionTarget (e.g. createSqliteProjectionTarget(db))',
    });
  } else if (typeof t.commitClaim !== 'function') {
    ctx.addIssue({
      code: 'custom',
      message:
        'must support commitClaim (an atomic "record the id and apply the writes unless recorded"); the memory, SQLite, MongoDB and PostgreSQL targets do',
    });
  }
});

const processedEventsSchema = z.strictObject({
  target,
  name: nonEmptyString('naming the read model'),
});

/**
 * Checks the options of `createProcessedEvents` strictly.
 *
 * @throws ValidationError naming the option path, what is wrong and what is allowed.
 */
export function resolveProcessedEventsOptions(options: ProcessedEventsOptions): {
  target: ProjectionTarget & { commitClaim: NonNullable<ProjectionTarget['commitClaim']> };
  name: string;
} {
  const o = parseOptions(processedEventsSchema, options, { readModel: 'name', store: 'target' });
  return {
    target: o.target as ReturnType<typeof resolveProcessedEventsOptions>['target'],
    name: o.name,
  };
}
