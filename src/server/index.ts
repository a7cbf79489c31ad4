// The HTTP API of the reference app. Named exports, by hand.

export { createServer } from './createServer.js';
export type { EventloomServer, ServerOptions } from './createServer.js';
export type { ExplorerAccess } from './apiRouter.js';
export { countPendingTimers, openStores, runApp } from './runApp.js';
export type {
  AppExtension,
  AppExtensionContext,
  Opened,
  RunAppOptions,
  RunningApp,
} from './runApp.js';
export { loadAppConfig } from './appConfig.js';
export type { AppConfig, ReadModelConfig, StoreConfig } from './appConfig.js';
export { createSubscriptionRegistry } from './subscriptionRegistry.js';
export type {
  SubscriptionKind,
  SubscriptionRegistry,
  SubscriptionReport,
} from './subscriptionRegistry.js';
export { countingStore } from './countingStore.js';
export { createMetrics } from './metrics.js';
export type { Metrics } from './metrics.js';
export type { Gauge } from './metrics.js';
export type { AppServicesConfig } from '../app/services/appService.js';
export type { ApiEnv, Authenticated } from './apiEnv.js';
export type { DevMailbox } from './devMailRoutes.js';
export type { LoginRateLimitOptions } from './loginRateLimiter.js';
export type { AnyWorkflow } from './workflowRoutes.js';
