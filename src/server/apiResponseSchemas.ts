// The JSON the API answers with, as zod schemas: the OpenAPI document's response components,
// and (through the `z.infer` types below) the web client's types. Only zod and import-free
// modules here: the web client type-checks this file without the server around it.
import { z } from 'zod';
import { ORDER_STATUSES } from '../app/orderStatuses.js';
import { PAYMENT_METHODS } from '../app/paymentMethods.js';

/**
 * Eventloom's own registry of schema metadata: named schemas (each rendered as
 * `#/components/schemas/<id>` in the OpenAPI document), descriptions and patterns. Not zod's
 * global registry, which `.meta()` and `.describe()` write to: that belongs to the host
 * application, whose schemas must neither appear in the document nor replace one of ours.
 */
export const apiSchemas = z.registry<z.core.GlobalMeta>();

/** `schema.meta(meta)` in `apiSchemas`: a copy that carries the metadata. */
export const withMeta = <S extends z.ZodType>(schema: S, meta: z.core.GlobalMeta): S => {
  const copy = schema.clone();
  apiSchemas.add(copy, meta);
  return copy;
};
/** `schema.describe(description)` in `apiSchemas`; chain it as `.apply(described, …)`. */
export const described = <S extends z.ZodType>(schema: S, description: string): S =>
  withMeta(schema, { description });

export const named = <S extends z.ZodType>(id: string, description: string, schema: S): S =>
  withMeta(schema, { id, description });

export const Problem = named(
  'Problem',
  'RFC 9457 problem details. `errors` names every invalid field; other members depend on the problem.',
  z.looseObject({
    type: z.string().apply(described, 'urn:eventloom:problem:<code>'),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string(),
    request_id: z.string().optional(),
    reason: z
      .string()
      .optional()
      .apply(
        described,
        'Why a command was refused: username_taken, email_taken, stale_version, concurrent_change…',
      ),
    errors: z
      .array(z.object({ pointer: z.string(), field: z.string(), message: z.string() }))
      .optional(),
    current_version: z.number().int().optional().apply(described, 'With 409 concurrent_change'),
    retry_after_seconds: z.number().int().optional().apply(described, 'With 429'),
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
  stock: z.number().int().nullable().apply(described, 'Units left to order; null means unlimited'),
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
      .apply(described, 'Its status changes, oldest first, each with the event that made it'),
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
export const WorkflowInstanceSummary = named(
  'WorkflowInstanceSummary',
  'One workflow instance: how many inputs it handled, and the last one.',
  z.object({
    workflow: z.string(),
    instanceId: z.string(),
    streamId: z.string(),
    inputs: z.number().int(),
    lastInputType: z.string(),
    updatedAt: z.string(),
  }),
);
export const WorkflowInstanceList = named(
  'WorkflowInstanceList',
  'The workflows this process runs, and their instances, most recently active first.',
  z.object({ workflows: z.array(z.string()), instances: z.array(WorkflowInstanceSummary) }),
);
const WorkflowMessage = z.object({ type: z.string(), data: z.unknown() });
export const WorkflowOutputRecord = named(
  'WorkflowOutputRecord',
  'What an input caused: a command, an event appended to `stream` (`eventId`), a timer scheduled (`dueAt`) or cancelled. `id` is the record’s event id in the instance stream.',
  z.object({
    kind: z.enum(['command', 'event', 'schedule', 'cancel']),
    id: z.string(),
    type: z.string().optional(),
    data: z.unknown().optional(),
    target: z.string().optional(),
    stream: z.string().optional(),
    eventId: z.string().optional(),
    timerId: z.string().optional(),
    scheduleId: z.string().optional(),
    dueAt: z.string().optional(),
    message: WorkflowMessage.optional(),
  }),
);
export const WorkflowInstance = named(
  'WorkflowInstance',
  'A workflow instance folded from its stream: state, pending timers, and each input with the outputs it caused. Personal fields of other people are `[redacted]`, as in events.',
  z.object({
    workflow: z.string(),
    instanceId: z.string(),
    streamId: z.string(),
    version: z.number().int(),
    state: z.unknown(),
    timers: z.array(
      z.object({
        timerId: z.string(),
        scheduleId: z.string(),
        dueAt: z.string(),
        message: WorkflowMessage,
      }),
    ),
    inputs: z.array(
      z.object({
        id: z.string().apply(described, 'The input record’s event id in the instance stream'),
        inputId: z
          .string()
          .apply(described, 'The input event’s id (derived from the schedule for a timer)'),
        type: z.string(),
        data: z.unknown(),
        source: z.union([
          z.object({
            kind: z.literal('event'),
            streamId: z.string(),
            position: z.number().int().optional(),
          }),
          z.object({ kind: z.literal('timer'), timerId: z.string(), scheduleId: z.string() }),
        ]),
        recordedAt: z.string(),
        position: z.number().int(),
        outputs: z.array(WorkflowOutputRecord),
      }),
    ),
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

// What the API answers with, typed: the web client imports these (type-only).
export type ApiProblem = z.infer<typeof Problem>;
export type ApiUser = z.infer<typeof User>;
export type ApiSession = z.infer<typeof SessionInfo>;
export type ApiTweet = z.infer<typeof Tweet>;
export type ApiProduct = z.infer<typeof Product>;
export type ApiPayment = z.infer<typeof Payment>;
export type ApiOrder = z.infer<typeof Order>;
export type ApiEvent = z.infer<typeof Event>;
export type ApiEventPage = z.infer<typeof EventPage>;
export type ApiStream = z.infer<typeof Stream>;
export type ApiAggregateState = z.infer<typeof AggregateState>;
export type ApiSubscriptionList = z.infer<typeof SubscriptionList>;
export type ApiEventRate = z.infer<typeof EventRate>;
export type ApiWorkflowInstanceList = z.infer<typeof WorkflowInstanceList>;
export type ApiWorkflowInstance = z.infer<typeof WorkflowInstance>;
export type ApiWorkflowOutput = z.infer<typeof WorkflowOutputRecord>;

export const DevEmail = named(
  'DevEmail',
  'A mail the notifications service handled for the user: `sent`, or `skipped` (the recipient was erased). `raw` is the RFC 5322 message from the outbox folder (outbox mode only).',
  z.object({
    message_id: z.string(),
    kind: z.enum(['welcome', 'order-shipped']),
    status: z.enum(['sent', 'skipped']),
    reason: z.string().nullable(),
    subject: z.string().nullable(),
    at: z.string(),
    raw: z.string().nullable(),
  }),
);
export const DevEmailList = named(
  'DevEmailList',
  'The mail sent to one user, newest first.',
  z.object({ emails: z.array(DevEmail) }),
);
export type ApiDevEmail = z.infer<typeof DevEmail>;
