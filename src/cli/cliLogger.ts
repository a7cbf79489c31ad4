import type { Logger } from '../core/logger.js';
import { createProcessLogger } from '../node/processLogger.js';

/** The CLI's logger: JSON lines on stderr (stdout stays for results), level from LOG_LEVEL. */
export function cliLogger(): Logger {
  return createProcessLogger({ level: process.env.LOG_LEVEL || 'info' });
}
