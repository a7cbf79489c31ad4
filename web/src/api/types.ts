// The JSON shapes of Eventloom's HTTP API (see /api/openapi.json), derived from the server's
// response schemas: a change there shows up here as a type error. Type-only imports: no server
// code reaches the bundle. App resources keep the source material's snake_case; the store API
// shows events as the library types them.
import type {
  ApiAggregateState,
  ApiDevEmail,
  ApiEvent,
  ApiEventPage,
  ApiEventRate,
  ApiOrder,
  ApiPayment,
  ApiProblem,
  ApiProduct,
  ApiSession,
  ApiStream,
  ApiSubscriptionList,
  ApiTweet,
  ApiUser,
  ApiWorkflowInstance,
  ApiWorkflowInstanceList,
  ApiWorkflowOutput,
} from '../../../src/server/apiResponseSchemas.ts';

export { PAYMENT_METHODS, type PaymentMethod } from '../../../src/app/paymentMethods.ts';

/** The problem's named members: the schema allows others, which the client does not read. */
type ProblemMembers = { [K in keyof ApiProblem as string extends K ? never : K]: ApiProblem[K] };
/** RFC 9457 problem details, as every 4xx/5xx of the API answers; the client makes up some without `instance`. */
export type Problem = Omit<ProblemMembers, 'instance'> & { instance?: string };
/** One invalid input of a problem: `field` is the body path for people (`items[0].quantity`). */
export type FieldError = NonNullable<Problem['errors']>[number];

export type SessionInfo = ApiSession;
export type SessionUser = NonNullable<SessionInfo['user']>;
export type Role = SessionUser['role'];

export type User = ApiUser;
export type Tweet = ApiTweet;
export type Product = ApiProduct;
export type Order = ApiOrder;
export type OrderStatus = Order['status'];
export type OrderLine = Order['items'][number];
export type Payment = ApiPayment;

/** A recorded event. `position` is its place in the global log, `version` in its stream. */
export type StoredEvent = ApiEvent;
export type EventPage = ApiEventPage;
export type StreamPage = ApiStream;
export type AggregateState = ApiAggregateState;

export type SubscriptionList = ApiSubscriptionList;
export type SubscriptionStatus = SubscriptionList['subscriptions'][number];
export type SubscriptionKind = SubscriptionStatus['kind'];
export type SubscriptionState = SubscriptionStatus['state'];

export type EventRate = ApiEventRate;

export type WorkflowInstanceList = ApiWorkflowInstanceList;
export type WorkflowInstanceSummary = WorkflowInstanceList['instances'][number];
export type WorkflowInstance = ApiWorkflowInstance;
export type WorkflowInputEntry = WorkflowInstance['inputs'][number];
export type WorkflowOutput = ApiWorkflowOutput;
export type OrderTimelineEntry = Order['timeline'][number];

/** One mail of the development mailbox (`GET /api/dev/emails`, on development servers only). */
export type DevEmail = ApiDevEmail;
