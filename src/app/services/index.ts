// The shop's services. Named exports, by hand.

import type { AppServiceFactory } from './appService.js';
import { inventoryService } from './inventoryService.js';
import { orderService } from './orderService.js';
import { shippingService } from './shippingService.js';

export { DEFAULT_APP_SERVICES_CONFIG, serviceWorkflow } from './appService.js';
export type {
  AppService,
  AppServiceContext,
  AppServiceFactory,
  AppServicesConfig,
  AppServiceWorkflow,
} from './appService.js';
export { runAppServices } from './runAppServices.js';
export type { RunAppServicesOptions, RunningAppServices } from './runAppServices.js';
export { inventoryService, inventoryWorkflow } from './inventoryService.js';
export { orderService } from './orderService.js';
export { orderWorkflow, PAYMENT_TIMEOUT_REASON, PAYMENT_TIMER } from './orderWorkflow.js';
export { shippingService } from './shippingService.js';
export { CARRIER_TIMER, shipmentIdOf, shippingWorkflow } from './shippingWorkflow.js';

/** The shop's services by name (what `eventloom worker <name>` runs; `start` runs them all). */
export const APP_SERVICES: Readonly<Record<string, AppServiceFactory>> = {
  inventory: inventoryService,
  orders: orderService,
  shipping: shippingService,
};
