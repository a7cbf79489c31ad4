/** Structured fields of one log line (merged over the logger's bindings). */
export type LogFields = Record<string, unknown>;

/**
 * The one way library code logs: fields first, then the message, as pino does, so a pino
 * logger fits as it is. The library never writes to the console; a process (the CLI, a
 * server, a worker) passes its logger down.
 *
 * @example
 * const handle = createCommandHandler({ store, decider, logger: pino() });
 * logger.warn({ streamId, error }, 'snapshot save failed');
 */
export interface Logger {
  debug(fields: LogFields, msg: string): void;
  info(fields: LogFields, msg: string): void;
  warn(fields: LogFields, msg: string): void;
  error(fields: LogFields, msg: string): void;
  /** A logger that adds `bindings` to every line. */
  child(bindings: LogFields): Logger;
}

const nothing = (): void => undefined;

/** The default logger of every library function: it drops every line. */
export const noopLogger: Logger = {
  debug: nothing,
  info: nothing,
  warn: nothing,
  error: nothing,
  child: () => noopLogger,
};
