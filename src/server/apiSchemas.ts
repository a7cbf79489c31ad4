// Request and response schemas: they validate requests and are the OpenAPI document's
// components (one source for both). Request bodies are strict: an unknown field is an error.
import { z } from 'zod';
import {
  EMAIL,
  MAX_STOCK,
  NAME,
  ORDER_STATUSES,
  PASSWORD,
  PAYMENT_METHODS,
  TWEET_BODY,
  USERNAME,
} from '../app/index.js';

/**
 * Named schemas live in zod's global registry (where `.describe()` puts descriptions too);
 * the OpenAPI document renders each as `#/components/schemas/<id>`.
 */
export const apiSchemas = z.globalRegistry;

const named = <S extends z.ZodType>(id: string, description: string, schema: S): S =>
  schema.meta({ id, description });

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
    .meta({ pattern: NO_CONTROL_PATTERN });
/** Text a person typed: length-checked, not blank, no control characters but tab and newlines. */
const text = (min: number, max: number) =>
  z
    .string()
    .min(min)
    .max(max)
    .refine(notBlank, 'must not be blank')
    .refine((s) => !CONTROL.test(s), 'must not contain control characters')
    .meta({ pattern: TEXT_PATTERN });
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
      .describe('Units on hand; omitted or null means unlimited'),
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
  id: z.string().min(1).max(64).describe('A user id, or a username'),
});
export const TweetUserParams = z.object({
  user: z.string().min(1).max(64).describe('A username, or a user id'),
});
export const EntityParams = z.object({ id: uuid() });
export const StreamParams = z.object({
  id: noControl(z.string().min(1).max(512)).describe('A stream id, e.g. user-0190…'),
});

export const ListQuery = z.object({
  limit: intParam(1, 1000).optional().describe('At most this many items (default 100)'),
  min_position: intParam(0, Number.MAX_SAFE_INTEGER)
    .optional()
    .describe(
      'Wait (up to 5 s) until the read model includes this global position: pass a write\u2019s X-Eventloom-Position to read your own write',
    ),
});

export const EventsQuery = z.object({
  from: intParam(0, Number.MAX_SAFE_INTEGER)
    .optional()
    .describe('First position (inclusive), default 0'),
  limit: intParam(1, 1000).optional().describe('Default 100'),
});

export const LiveQuery = z.object({
  from: intParam(0, Number.MAX_SAFE_INTEGER)
    .optional()
    .describe('First position (inclusive); default: only new events. Last-Event-ID wins over it'),
  types: z
    .string()
    .max(2000)
    .optional()
    .describe('Comma-separated event types to receive (default: all)'),
});

export const StreamQuery = z.object({
  from: intParam(0, Number.MAX_SAFE_INTEGER).optional().describe('First version (inclusive)'),
  limit: intParam(1, 1000).optional().describe('Default 1000'),
  direction: z.enum(['forwards', 'backwards']).optional(),
});

export const StateQuery = z.object({
  version: intParam(0, Number.MAX_SAFE_INTEGER)
    .optional()
    .describe('Fold the stream up to this version (default: all of it)'),
});

export const RateQuery = z.object({
  window: intParam(10, 3600).optional().describe('Seconds of history (default 300)'),
  bucket: intParam(1, 300).optional().describe('Seconds per bucket (default 5)'),
});

// ---------------------------------------------------------------- responses

export const Problem = named(
  'Problem',
  'RFC 9457 problem details. `errors` names every invalid field; other members depend on the problem.',
  z.looseObject({
    type: z.string().describe('urn:eventloom:problem:<code>'),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string(),
    request_id: z.string().optional(),
    reason: z
      .string()
      .optional()
      .describe(
        'Why a command was refused: username_taken, email_taken, stale_version, concurrent_change…',
      ),
    errors: z
      .array(z.object({ pointer: z.string(), field: z.string(), message: z.string() }))
      .optional(),
    current_version: z.number().int().optional().describe('With 409 concurrent_change'),
    retry_after_seconds: z.number().int().optional().describe('With 429'),
  }),
);

export const ApiInfo = named(
  'ApiInfo',
  'The API versions and their resources (the source material\u2019s shape).',
  z.object({
    api_version: z.array(
      z.object({
        version: z.string(),
        links: z.string(),
        methods: z.string(),
        buildtime: z.string(),
      }),
    ),
  }),
);

export const User = named(
  'User',
  'A user account: never with a password or hash. `email` only for the user and admins.',
  z.object({
    id: z.string(),
    username: z.string(),
    name: z.string(),
    email: z.string().optional(),
    created_at: z.string(),
    updated_at: z.string(),
    version: z.number().int(),
  }),
);
export const UserList = named('UserList', 'Every user.', z.object({ user_list: z.array(User) }));
export const UserDetails = named(
  'UserDetails',
  'One user, in a one-element list (the source material\u2019s shape).',
  z.object({ user_details: z.array(User) }),
);
export const UserCreated = named('UserCreated', 'The new account.', z.object({ user: User }));

export const SessionInfo = named(
  'Session',
  'Who is logged in. `csrf_token` must be sent as `x-csrf-token` on unsafe requests.',
  z.object({
    authenticated: z.boolean(),
    via: z.enum(['session', 'basic']).optional(),
    user: z
      .object({ id: z.string(), username: z.string(), role: z.enum(['user', 'admin']) })
      .optional(),
    csrf_token: z.string().optional(),
    expires_at: z.string().optional(),
  }),
);

export const Tweet = named(
  'Tweet',
  'A tweet (the source material\u2019s shape, plus user_id).',
  z.object({
    id: z.string(),
    body: z.string(),
    tweetedby: z.string(),
    user_id: z.string(),
    timestamp: z.string(),
  }),
);
export const TweetList = named(
  'TweetList',
  'Tweets, newest first.',
  z.object({ tweets_list: z.array(Tweet) }),
);
export const UserTweets = named(
  'UserTweets',
  'A user\u2019s tweets, newest first; `tweet` repeats them under the source material\u2019s name.',
  z.object({ tweets_list: z.array(Tweet), tweet: z.array(Tweet) }),
);
export const TweetCreated = named('TweetCreated', 'The new tweet.', z.object({ tweet: Tweet }));

const ProductShape = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  price_cents: z.number().int(),
  stock: z.number().int().nullable().describe('Units left to order; null means unlimited'),
  added_by: z.object({
    user_id: z.string(),
    username: z.string(),
    role: z.enum(['user', 'admin']),
  }),
  created_at: z.string(),
  version: z.number().int(),
});
export const Product = named('Product', 'A product.', ProductShape);
export const ProductList = named(
  'ProductList',
  'Products, oldest first.',
  z.object({ products: z.array(Product) }),
);
export const ProductEnvelope = named(
  'ProductEnvelope',
  'One product.',
  z.object({ product: Product }),
);

const PaymentShape = z.object({
  id: z.string(),
  order_id: z.string(),
  amount_cents: z.number().int(),
  method: z.enum(PAYMENT_METHODS),
  processed_at: z.string(),
});
export const Payment = named('Payment', 'A processed payment.', PaymentShape);

export const Order = named(
  'Order',
  'An order: placed, then reserved (stock held) or rejected, then paid, then shipped; or cancelled while unpaid. `payment` is set once it is paid.',
  z.object({
    id: z.string(),
    user_id: z.string(),
    username: z.string(),
    items: z.array(
      z.object({
        product_id: z.string(),
        name: z.string(),
        quantity: z.number().int(),
        unit_price_cents: z.number().int(),
        line_total_cents: z.number().int(),
      }),
    ),
    total_cents: z.number().int(),
    status: z.enum(ORDER_STATUSES),
    payment: z
      .object({
        id: z.string(),
        amount_cents: z.number().int(),
        method: z.enum(PAYMENT_METHODS),
        processed_at: z.string(),
      })
      .nullable(),
    timeline: z
      .array(z.object({ status: z.enum(ORDER_STATUSES), at: z.string(), event_id: z.string() }))
      .describe('Its status changes, oldest first, each with the event that made it'),
    placed_at: z.string(),
    updated_at: z.string(),
    version: z.number().int(),
  }),
);
export const OrderList = named(
  'OrderList',
  'Orders, newest first.',
  z.object({ orders: z.array(Order) }),
);
export const OrderEnvelope = named('OrderEnvelope', 'One order.', z.object({ order: Order }));
export const PaymentList = named(
  'PaymentList',
  'Payments, newest first.',
  z.object({ payments: z.array(Payment) }),
);
export const PaymentResult = named(
  'PaymentResult',
  'The payment and the paid order.',
  z.object({ payment: Payment, order: Order }),
);

export const Event = named(
  'Event',
  'A recorded event, as the library types it.',
  z.object({
    id: z.string(),
    streamId: z.string(),
    type: z.string(),
    data: z.unknown(),
    metadata: z.record(z.string(), z.unknown()),
    version: z.number().int(),
    position: z.number().int(),
    recordedAt: z.string(),
  }),
);
export const EventPage = named(
  'EventPage',
  'Events in global order. Ask for the next page with `from=nextFrom`.',
  z.object({ events: z.array(Event), nextFrom: z.number().int(), head: z.number().int() }),
);
export const Stream = named(
  'Stream',
  'One stream\u2019s events and state of existence.',
  z.object({
    streamId: z.string(),
    version: z.number().int(),
    exists: z.boolean(),
    deleted: z.boolean(),
    events: z.array(Event),
  }),
);
export const AggregateState = named(
  'AggregateState',
  'An app aggregate folded up to `version` (time travel).',
  z.object({
    streamId: z.string(),
    aggregate: z.string(),
    version: z.number().int(),
    currentVersion: z.number().int(),
    state: z.unknown(),
  }),
);
export const SubscriptionList = named(
  'SubscriptionList',
  'Every projection, publisher and subscription of this process, with its lag.',
  z.object({
    head: z.number().int(),
    subscriptions: z.array(
      z.object({
        name: z.string(),
        kind: z.enum(['projection', 'publisher', 'subscription']),
        state: z.enum(['starting', 'catching-up', 'live', 'stopped', 'failed']),
        position: z.number().int(),
        head: z.number().int(),
        lag: z.number().int(),
        processed: z.number().int(),
        parked: z.number().int(),
        error: z.string().optional(),
      }),
    ),
  }),
);
export const EventRate = named(
  'EventRate',
  'Events recorded per time bucket (all processes), for a rate chart.',
  z.object({
    from: z.string(),
    bucketSeconds: z.number().int(),
    buckets: z.array(z.object({ at: z.string(), count: z.number().int() })),
    total: z.number().int(),
    perSecond: z.number(),
  }),
);
export const Health = named(
  'Health',
  '`ok` when the event store and the read models answer.',
  z.object({
    status: z.enum(['ok', 'unavailable']),
    store: z.string(),
    readModels: z.string(),
    checks: z.record(
      z.string(),
      z.object({ status: z.enum(['ok', 'unavailable']), detail: z.string().optional() }),
    ),
    head: z.number().int().optional(),
    uptimeSeconds: z.number(),
  }),
);
