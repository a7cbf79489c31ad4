import { isSpanContextValid, trace } from '@opentelemetry/api';
import { pino, stdSerializers, stdTimeFunctions } from 'pino';
import { ConfigurationError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Fields whose values never reach a log line, wherever a line carries them. */
const SECRET_FIELDS = [
  'password',
  'currentPassword',
  'newPassword',
  'passwordHash',
  'hash',
  'token',
  'csrfToken',
  'secret',
  'sessionSecret',
  'webhookSecret',
  'masterKey',
  'keyEncryptionKey',
  'authorization',
  'cookie',
  'email',
];

/**
 * Redaction by path: each secret field at the top of a line and one object down (`error`,
 * `notice`, `request` …), and the credential headers of a request or response.
 */
export const REDACTED_PATHS: readonly string[] = [
  ...SECRET_FIELDS.flatMap((field) => [field, `*.${field}`]),
  ...['headers', 'req.headers', 'request.headers', 'res.headers', 'response.headers'].flatMap(
    (at) => [`${at}.authorization`, `${at}.cookie`, `${at}["set-cookie"]`, `${at}["x-api-key"]`],
  ),
];

export interface ProcessLoggerOptions {
  /** Lowest level written. Default `info`. */
  level?: string;
  /** Where JSON lines go. Default: stderr, synchronously (stdout stays for results). */
  write?: (line: string) => void;
  /** Fields on every line. */
  bindings?: Record<string, unknown>;
}

function checkLevel(level: string): LogLevel {
  if ((LOG_LEVELS as readonly string[]).includes(level)) return level as LogLevel;
  throw new ConfigurationError(
    `log level '${level}' is not one of ${LOG_LEVELS.join(', ')}; set LOG_LEVEL to one of them`,
    { details: { level } },
  );
}

/** The ids of the span active where the line is written, so a log line finds its trace. */
function traceIds(): Record<string, string> {
  const span = trace.getActiveSpan();
  if (span === undefined) return {};
  const ids = span.spanContext();
  return isSpanContextValid(ids) ? { trace_id: ids.traceId, span_id: ids.spanId } : {};
}

/**
 * The logger of a process edge (CLI, server, relay, worker): pino, one JSON object per line
 * (`time` ISO, `level` as a word, `msg`, and `trace_id`/`span_id` inside a span), secrets and personal fields redacted by path.
 * Library code receives it as the core's `Logger` port.
 *
 * @example
 * const logger = createProcessLogger({ level: process.env.LOG_LEVEL });
 * logger.info({ port }, 'listening');
 */
export function createProcessLogger(options: ProcessLoggerOptions = {}): Logger {
  const level = checkLevel(options.level ?? 'info');
  const write = options.write;
  const destination =
    write === undefined
      ? pino.destination({ dest: 2, sync: true })
      : { write: (line: string) => write(line.endsWith('\n') ? line.slice(0, -1) : line) };
  const logger = pino(
    {
      level,
      redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: stdSerializers.err, error: stdSerializers.err },
      mixin: traceIds,
    },
    destination,
  );
  return options.bindings ? logger.child(options.bindings) : logger;
}
