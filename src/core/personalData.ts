import { ValidationError } from './errors.js';

/** The shape personal-data rules apply to: any event with a type and its data. */
export type AnyEvent = { type: string; data: unknown };

/** The top-level field names of an event's data, as a union of string literals. */
export type PersonalFieldName<D> = D extends object ? Extract<keyof D, string> : never;

/** What a subject function sees: the event being appended or read, and its stream. */
export interface PersonalEventView<E extends AnyEvent = AnyEvent> {
  type: E['type'];
  data: E['data'];
  streamId: string;
}

/** Which fields of one event type are personal, and whose they are. */
export interface PersonalEventRule<E extends AnyEvent = AnyEvent> {
  /** The data subject's id (e.g. the user id): the fields are encrypted with this subject's key. */
  subject: (event: PersonalEventView<E>) => string;
  /** Top-level fields of `data` that hold personal data. */
  fields: readonly PersonalFieldName<E['data']>[];
}

/** One optional rule per event type of the union `E`, fields checked against that type's data. */
export type PersonalDataDeclaration<E extends AnyEvent> = {
  [T in E['type']]?: PersonalEventRule<Extract<E, { type: T }>>;
};

/** A checked personal-data declaration, as {@link personalData} returns it. */
export interface PersonalDataPolicy {
  readonly eventTypes: ReadonlySet<string>;
  ruleFor(eventType: string): ResolvedPersonalRule | undefined;
}

/** A rule of a checked policy: the subject function and the personal field names. */
export interface ResolvedPersonalRule {
  subject: (event: PersonalEventView) => string;
  fields: readonly string[];
}

/**
 * Declares, next to the event types, which fields are personal and whose they are. Field
 * names are checked against each event type's data; the declaration is validated at once.
 *
 * @example
 * type UserEvents =
 *   | { type: 'UserRegistered'; data: { userId: string; email: string; name: string } }
 *   | { type: 'UserRenamed'; data: { userId: string; name: string } };
 * export const userPersonalData = personalData<UserEvents>({
 *   UserRegistered: { subject: (e) => e.data.userId, fields: ['email', 'name'] },
 *   UserRenamed: { subject: (e) => e.data.userId, fields: ['name'] },
 * });
 */
export function personalData<E extends AnyEvent>(
  declaration: PersonalDataDeclaration<E>,
): PersonalDataPolicy {
  if (typeof declaration !== 'object' || declaration === null) {
    throw new ValidationError(
      'personalData',
      "must be an object { EventType: { subject: (e) => e.data.userId, fields: ['email'] } }",
    );
  }
  const rules = new Map<string, ResolvedPersonalRule>();
  for (const [type, raw] of Object.entries(declaration as Record<string, unknown>)) {
    if (raw === undefined) continue;
    const at = `personalData.${type}`;
    const rule = raw as Partial<PersonalEventRule>;
    if (typeof rule !== 'object' || rule === null || typeof rule.subject !== 'function') {
      throw new ValidationError(
        `${at}.subject`,
        'must be a function returning the data subject id, e.g. (e) => e.data.userId',
      );
    }
    const fields: unknown = rule.fields;
    if (!Array.isArray(fields) || fields.length === 0) {
      throw new ValidationError(
        `${at}.fields`,
        "must be a non-empty array of field names, e.g. ['email']",
      );
    }
    fields.forEach((f: unknown, i) => {
      if (typeof f !== 'string' || f.length === 0) {
        throw new ValidationError(`${at}.fields[${i}]`, 'must be a non-empty field name');
      }
    });
    if (new Set(fields).size !== fields.length) {
      throw new ValidationError(`${at}.fields`, 'names a field twice');
    }
    rules.set(type, { subject: rule.subject, fields: [...(fields as string[])] });
  }
  return {
    eventTypes: new Set(rules.keys()),
    ruleFor: (eventType) => rules.get(eventType),
  };
}
