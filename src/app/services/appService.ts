import type {
  DocumentStore,
  DomainEvent,
  EventStore,
  Logger,
  Workflow,
  WorkflowClock,
  WorkflowCommandHandlers,
} from '../../core/index.js';
import type { Inventory } from '../inventory.js';
import type { Shop } from '../shop.js';

/** Settings of the shop's services (from the environment at the process edge). */
export interface AppServicesConfig {
  /** How long a reserved order waits for its payment before it is cancelled (`ORDER_PAYMENT_TIMEOUT_MS`, default 900000). */
  orderPaymentTimeoutMs: number;
  /** The simulated carrier's delay between a shipment request and the dispatch (`SHIPPING_DELAY_MS`, default 2000). */
  shippingDelayMs: number;
}

export const DEFAULT_APP_SERVICES_CONFIG: AppServicesConfig = {
  orderPaymentTimeoutMs: 900_000,
  shippingDelayMs: 2000,
};

/**
 * What a service is built from. A service reads events and acts only through its own
 * commands (on `shop`, `inventory` or its own streams): it never calls another service, so
 * each can run in its own process over Kafka as well as in-process on a store subscription.
 */
export interface AppServiceContext {
  /** The app's event store (reads show personal fields in plaintext). */
  store: EventStore;
  shop: Shop;
  inventory: Inventory;
  /** Where the workflows' durable timers are indexed (the app's document store). */
  timers: DocumentStore;
  /** The services' clock; tests inject one to move time. */
  now: WorkflowClock;
  config: AppServicesConfig;
  logger: Logger;
}

/** One workflow of a service with the handlers of the commands it issues. */
export interface AppServiceWorkflow {
  readonly workflow: Workflow<unknown, DomainEvent, DomainEvent, DomainEvent>;
  readonly commands: WorkflowCommandHandlers<DomainEvent>;
}

/** A service of the shop: a name and its workflows. */
export interface AppService {
  /** `inventory`, `orders`, `shipping`, `notifications`: what `eventloom worker <name>` runs. */
  readonly name: string;
  readonly workflows: readonly AppServiceWorkflow[];
}

/** Builds a service from its context. */
export type AppServiceFactory = (context: AppServiceContext) => AppService;

/**
 * Pairs a workflow with its command handlers, checked against each other, and erases their
 * types so services with different event unions fit in one list.
 *
 * @example
 * const shipping: AppServiceFactory = (context) => ({
 *   name: 'shipping',
 *   workflows: [serviceWorkflow(shippingWorkflow(context.config), { MarkShipped: … })],
 * });
 */
export function serviceWorkflow<
  State,
  Input extends DomainEvent,
  Command extends DomainEvent,
  Event extends DomainEvent,
>(
  workflow: Workflow<State, Input, Command, Event>,
  commands: NoInfer<WorkflowCommandHandlers<Command>>,
): AppServiceWorkflow {
  return { workflow, commands } as unknown as AppServiceWorkflow;
}
