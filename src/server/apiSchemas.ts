// Request and response schemas: they validate requests and are the OpenAPI document's
// components (one source for both). Request bodies are strict: an unknown field is an error.
import { z } from 'zod';
import {
  EMAIL,
  MAX_STOCK,
  NAME,
  PASSWORD,
  PAYMENT_METHODS,
  TWEET_BODY,
  USERNAME,
} from '../app/index.js';
import { described, named, withMeta } from './apiResponseSchemas.js';

export { apiSchemas } from './apiResponseSchemas.js';

const notBlank = (s: string) => /\S/.test(s);
// Control characters (NUL above all, which PostgreSQL's jsonb refuses) have no place in text.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
// The same two rules as JSON Schema patterns, so the OpenAPI document says what is accepted
// (refinements are invisible to it). "Blank" is JavaScript's \s, spelled out: other regex
// dialects disagree on what \s holds.
const CONTROL_CLASS = String.raw`\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f`;
const BLANK_CLASS = String.raw`\t\n\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff`;
const NO_CONTROL_PATTERN = `^[^${CONTROL_CLASS}]*$`;
const TEXT_PATTERN = `^[^${CONTROL_CLASS}]*[^${CONTROL_CLASS}${BLANK_CLASS}][^${CONTROL_CLASS}]*$`;
/** Text without control characters (but tab and newlines). */
const noControl = (schema: z.ZodString) =>
  schema
    .refine((s) => !CONTROL.test(s), 'must not contain control characters')
    .apply(withMeta, { pattern: NO_CONTROL_PATTERN });
/** Text a person typed: length-checked, not blank, no control characters but tab and newlines. */
const text = (min: number, max: number) =>
  z
    .string()
    .min(min)
    .max(max)
    .refine(notBlank, 'must not be blank')
    .refine((s) => !CONTROL.test(s), 'must not contain control characters')
    .apply(withMeta, { pattern: TEXT_PATTERN });
/** An address mail can deliver to: RFC 5321 allows at most 64 characters before the @. */
const email = () =>
  z
    .email()
    .max(EMAIL.max)
    .refine(
      (s) => s.lastIndexOf('@') <= 64,
      'has more than 64 characters before the @, which mail servers refuse',
    );
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const uuid = () => z.string().regex(UUID_PATTERN, 'must be an id (a lower-case UUID)');

/**
 * Bounds of the integer query parameters: they arrive as strings, and the OpenAPI document
 * describes them as the integers they are (see openApiDocument).
 */
export const integerParams = new WeakMap<z.ZodType, { minimum: number; maximum: number }>();

/** A query parameter holding a whole number in [min, max]. */
export const intParam = (min: number, max: number) => {
  const schema = z
    .string()
    .regex(/^\d{1,16}$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
  integerParams.set(schema, { minimum: min, maximum: max });
  return schema;
};

// ---------------------------------------------------------------- requests

export const RegisterUserBody = named(
  'RegisterUser',
  'A new account. The password is hashed (argon2id) and never stored or shown anywhere.',
  z.strictObject({
    username: z
      .string()
      .min(USERNAME.min)
      .max(USERNAME.max)
      .regex(
        USERNAME.pattern,
        'may hold letters, digits, ".", "_" and "-", starting with a letter or digit',
      ),
    email: email(),
    name: text(NAME.min, NAME.max),
    password: z.string().min(PASSWORD.min).max(PASSWORD.max),
  }),
);

export const UpdateUserBody = named(
  'UpdateUser',
  'Changes to an account: any of name and email, and/or a new password with the current one.',
  z
    .strictObject({
      name: text(NAME.min, NAME.max).optional(),
      email: email().optional(),
      password: z.string().min(PASSWORD.min).max(PASSWORD.max).optional(),
      current_password: z.string().min(1).max(PASSWORD.max).optional(),
    })
    .superRefine((v, ctx) => {
      if (v.name === undefined && v.email === undefined && v.password === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [],
          message: 'send at least one of name, email, password',
        });
      }
      if (v.password !== undefined && v.current_password === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['current_password'],
          message: 'is required to change the password',
        });
      }
      if (v.password === undefined && v.current_password !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['password'],
          message: 'is missing: current_password is only used to change the password',
        });
      }
    }),
);

export const LoginBody = named(
  'Login',
  'Credentials for a browser session.',
  z.strictObject({
    username: z.string().min(1).max(256),
    password: z.string().min(1).max(1024),
  }),
);

export const PostTweetBody = named(
  'PostTweet',
  'A tweet by the authenticated user.',
  z.strictObject({
    body: text(TWEET_BODY.min, TWEET_BODY.max),
  }),
);

export const AddProductBody = named(
  'AddProduct',
  'A product, added by a user or an admin. Money is in cents.',
  z.strictObject({
    name: text(1, 100),
    description: noControl(z.string().max(1000)).optional(),
    price_cents: z.number().int().min(0).max(100_000_000),
    stock: z
      .number()
      .int()
      .min(0)
      .max(MAX_STOCK)
      .nullable()
      .optional()
      .apply(described, 'Units on hand; omitted or null means unlimited'),
  }),
);

export const PlaceOrderBody = named(
  'PlaceOrder',
  'Products and quantities. Prices are the products\u2019 at the time of ordering.',
  z
    .strictObject({
      items: z
        .array(z.strictObject({ product_id: uuid(), quantity: z.number().int().min(1).max(100) }))
        .min(1)
        .max(50),
    })
    .superRefine((v, ctx) => {
      const seen = new Set<string>();
      v.items.forEach((item, i) => {
        if (seen.has(item.product_id)) {
          ctx.addIssue({
            code: 'custom',
            path: ['items', i, 'product_id'],
            message: 'appears twice; put the total in one quantity',
          });
        }
        seen.add(item.product_id);
      });
    }),
);

export const ProcessPaymentBody = named(
  'ProcessPayment',
  'A payment of exactly the order\u2019s total.',
  z.strictObject({
    amount_cents: z.number().int().min(0).max(10_000_000_000),
    method: z.enum(PAYMENT_METHODS),
  }),
);

// ---------------------------------------------------------------- parameters

export const UserParams = z.object({
  id: z.string().min(1).max(64).apply(described, 'A user id, or a username'),
});
export const TweetUserParams = z.object({
  user: z.string().min(1).max(64).apply(described, 'A username, or a user id'),
});
export const EntityParams = z.object({ id: uuid() });
export const StreamParams = z.object({
  id: noControl(z.string().min(1).max(512)).apply(described, 'A stream id, e.g. user-0190…'),
});

export const ListQuery = z.object({
  limit: intParam(1, 1000).optional().apply(described, 'At most this many items (default 100)'),
  min_position: intParam(0, Number.MAX_SAFE_INTEGER)
    .optional()
    .apply(
      described,
      'Wait (up to 5 s) until the read model includes this global position: pass a write\u2019s X-Eventloom-Position to read your own write',
    ),
});

export const EventsQuery = z.object({
  from: intParam(0, Number.MAX_SAFE_INTEGER)
    .optional()
    .apply(described, 'First position (inclusive), default 0'),
  limit: intParam(1, 1000).optional().apply(described, 'Default 100'),
  correlation_id: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .apply(
      described,
      'Only events whose metadata.correlationId is this, among the `limit` events read from `from`; page on with `nextFrom` until it passes `head`',
    ),
});

export const LiveQuery = z.object({
  from: intParam(0, Number.MAX_SAFE_INTEGER)
    .optional()
    .apply(
      described,
      'First position (inclusive); default: only new events. Last-Event-ID wins over it',
    ),
  types: z
    .string()
    .max(2000)
    .optional()
    .apply(described, 'Comma-separated event types to receive (default: all)'),
});

export const ShopLiveQuery = z.object({
  from: intParam(0, Number.MAX_SAFE_INTEGER)
    .optional()
    .apply(
      described,
      'First position (inclusive); default: only new events. Last-Event-ID wins over it',
    ),
});

export const StreamQuery = z.object({
  from: intParam(0, Number.MAX_SAFE_INTEGER)
    .optional()
    .apply(described, 'First version (inclusive)'),
  limit: intParam(1, 1000).optional().apply(described, 'Default 1000'),
  direction: z.enum(['forwards', 'backwards']).optional(),
});

export const StateQuery = z.object({
  version: intParam(0, Number.MAX_SAFE_INTEGER)
    .optional()
    .apply(described, 'Fold the stream up to this version (default: all of it)'),
});

/** As `workflow-<name>-<instanceId>` stream ids spell it (see parseWorkflowStreamId). */
const workflowName = () =>
  z.string().regex(/^[A-Za-z0-9_.]{1,100}$/, 'must be a workflow name (letters, digits, _ and .)');

export const WorkflowParams = z.object({
  name: workflowName().apply(described, 'A workflow name, e.g. order'),
  instanceId: noControl(z.string().min(1).max(400)).apply(
    described,
    'The instance (correlation id), e.g. an order id',
  ),
});

export const WorkflowsQuery = z.object({
  workflow: workflowName().optional().apply(described, 'Only the instances of this workflow'),
  limit: intParam(1, 1000).optional().apply(described, 'Default 100, most recently active first'),
});

export const RateQuery = z.object({
  window: intParam(10, 3600).optional().apply(described, 'Seconds of history (default 300)'),
  bucket: intParam(1, 300).optional().apply(described, 'Seconds per bucket (default 5)'),
});

export {
  Problem,
  ApiInfo,
  User,
  UserList,
  UserDetails,
  UserCreated,
  SessionInfo,
  Tweet,
  TweetList,
  UserTweets,
  TweetCreated,
  Product,
  ProductList,
  ProductEnvelope,
  Payment,
  Order,
  OrderList,
  OrderEnvelope,
  PaymentList,
  PaymentResult,
  Event,
  EventPage,
  Stream,
  AggregateState,
  SubscriptionList,
  EventRate,
  Health,
  WorkflowInstance,
  WorkflowInstanceList,
} from './apiResponseSchemas.js';

export const DevEmailQuery = z.object({
  user: uuid()
    .optional()
    .apply(described, 'Whose mail (default: yours); only admins may name another user'),
});
