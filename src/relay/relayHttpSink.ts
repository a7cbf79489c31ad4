import { createHmac } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { HttpStepConfig } from './relayConfig.js';
import { RelayStepError, RETRYABLE_HTTP_STATUSES } from './relayErrors.js';
import type { RelayStep, RetrySettings } from './relayStep.js';
import { compileTemplate, stringify } from './relayTemplate.js';
import { outgoingTraceHeaders } from './relayTracing.js';

/** A counting semaphore: at most `limit` holders at once. */
export class Semaphore {
  #free: number;
  #waiting: (() => void)[] = [];
  constructor(limit: number) {
    this.#free = limit;
  }
  async acquire(): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }
  release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#free++;
  }
}

/** The signing key of a Standard Webhooks secret: `whsec_<base64>` or the raw text. */
export function webhookKey(secret: string): Buffer {
  return secret.startsWith('whsec_')
    ? Buffer.from(secret.slice('whsec_'.length), 'base64')
    : Buffer.from(secret, 'utf8');
}

/**
 * Standard Webhooks signature: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.
 *
 * @example
 * // receiver side
 * const expected = signWebhook(key, req.headers['webhook-id'], req.headers['webhook-timestamp'], body);
 */
export function signWebhook(key: Buffer, id: string, timestamp: string, body: string): string {
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

/**
 * The `http` step: POSTs the message as JSON to a webhook. Headers: `webhook-id` and
 * `idempotency-key` (the change's stable key), `webhook-timestamp`, and with a secret
 * `webhook-signature`. 2xx acknowledges; 408/409/425/429/5xx, timeouts and network errors
 * are retried; any other status is final (the change is dead-lettered).
 */
export function createHttpStep(
  config: HttpStepConfig,
  name: string,
  retry: RetrySettings,
): RelayStep {
  const url = compileTemplate(config.url, `${name}.url`);
  const method = config.method ?? 'POST';
  const timeoutMs = config.timeoutMs ?? 10_000;
  const key = config.secret === undefined ? undefined : webhookKey(config.secret);
  const extraHeaders = config.headers ?? {};
  const concurrency = config.concurrency ?? 16;
  const slots = new Semaphore(concurrency);
  const agents = {
    http: new HttpAgent({ keepAlive: true, maxSockets: concurrency }),
    https: new HttpsAgent({ keepAlive: true, maxSockets: concurrency }),
  };
  return {
    name,
    retry,
    readsOnly: true,
    close: async () => {
      agents.http.destroy();
      agents.https.destroy();
    },
    async run(message, context) {
      const target = stringify(await url(message));
      if (!/^https?:\/\/./i.test(target) || !URL.canParse(target)) {
        // A templated URL that comes out wrong stays wrong on every retry.
        throw new RelayStepError(
          `${name}.url gave '${target}', which is not an http:// or https:// URL; fix the template or the message field it reads`,
          { retryable: false },
        );
      }
      const body = JSON.stringify(message);
      const timestamp = String(Math.floor(Date.now() / 1000));
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        ...extraHeaders,
        'webhook-id': context.key,
        'webhook-timestamp': timestamp,
        'idempotency-key': context.key,
        ...outgoingTraceHeaders(context.change),
      };
      if (key) headers['webhook-signature'] = signWebhook(key, context.key, timestamp, body);
      await slots.acquire();
      try {
        let response: { status: number; text: string };
        try {
          response = await post(target, method, headers, body, timeoutMs, context.signal, agents);
        } catch (error) {
          const timedOut = error instanceof TimeoutError;
          throw new RelayStepError(
            timedOut
              ? `${method} ${target} timed out after ${timeoutMs} ms`
              : `${method} ${target} failed: ${describeFetchError(error)}`,
            { retryable: true, cause: error },
          );
        }
        if (response.status >= 200 && response.status < 300) return undefined;
        throw new RelayStepError(
          `${method} ${target} answered ${response.status}${
            response.text ? `: ${response.text.slice(0, 200)}` : ''
          }`,
          {
            retryable: RETRYABLE_HTTP_STATUSES.has(response.status),
            details: { status: response.status },
          },
        );
      } finally {
        slots.release();
      }
    },
  };
}

class TimeoutError extends Error {}

/**
 * One request over keep-alive connections (node:http is markedly cheaper per request than
 * fetch, which matters at thousands of webhooks per second).
 */
function post(
  target: string,
  method: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
  signal: AbortSignal,
  agents: { http: HttpAgent; https: HttpsAgent },
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(target);
    const secure = url.protocol === 'https:';
    if (!secure && url.protocol !== 'http:') {
      reject(new Error(`unsupported protocol ${url.protocol}`));
      return;
    }
    const req = (secure ? httpsRequest : httpRequest)(
      url,
      {
        method,
        agent: secure ? agents.https : agents.http,
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        signal,
      },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          if (size < 4096) chunks.push(c);
          size += c.length;
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', (e) => {
          clearTimeout(timer);
          reject(e);
        });
      },
    );
    const timer = setTimeout(() => req.destroy(new TimeoutError('timeout')), timeoutMs);
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.end(body);
  });
}

function describeFetchError(error: unknown): string {
  const e = error as { code?: string; message?: string };
  return e.code ?? e.message ?? String(error);
}
