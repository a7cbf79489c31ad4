// The shop's services as their own processes over Kafka, and the app's side of their
// commands. Named exports, by hand.

export { appCommandHandlers, startAppCommands } from './appCommands.js';
export { fromCommandEvent, toCommandMessage } from './remoteCommands.js';
export { runServiceWorker, toWorkerName, WORKER_NAMES } from './serviceWorker.js';
export type { RunningServiceWorker, ServiceWorkerOptions, WorkerName } from './serviceWorker.js';
export {
  appCommandsGroup,
  categoryTopic,
  commandTopic,
  eventTopicFor,
  workerGroup,
} from './workerTopics.js';
