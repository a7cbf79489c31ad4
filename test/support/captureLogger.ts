import type { LogFields, Logger } from '../../src/core/logger.js';

export interface CapturedLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  fields: LogFields;
  msg: string;
}

/** A Logger that keeps every line (with its child bindings) in `lines`. */
export function captureLogger(lines: CapturedLine[] = []): {
  logger: Logger;
  lines: CapturedLine[];
} {
  const at =
    (level: CapturedLine['level'], bindings: LogFields) =>
    (fields: LogFields, msg: string): void => {
      lines.push({ level, fields: { ...bindings, ...fields }, msg });
    };
  const make = (bindings: LogFields): Logger => ({
    debug: at('debug', bindings),
    info: at('info', bindings),
    warn: at('warn', bindings),
    error: at('error', bindings),
    child: (more) => make({ ...bindings, ...more }),
  });
  return { logger: make({}), lines };
}
