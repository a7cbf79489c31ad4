import type { Logger } from './logger.js';
export async function runDemo(_: { path: string; log: Logger }): Promise<void> {}
