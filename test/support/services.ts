import { Socket } from 'node:net';
import { skipOrFail } from './skipPolicy.js';

/** Real services the integration suites use; the addresses DESIGN.md fixes as defaults. */
export const MONGODB_URL = process.env.MONGODB_URL ?? 'mongodb://127.0.0.1:27017';
export const KAFKA_BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
export const DATABASE_URL =
  process.env.DATABASE_URL ?? 'postgres://postgres:postgres@127.0.0.1:5432/eventloom';
/** The SMTP catcher (Mailpit): where mail is sent, and its HTTP API to read it back. */
export const SMTP_URL = process.env.SMTP_URL ?? 'smtp://127.0.0.1:1025';
export const MAILPIT_API_URL = process.env.MAILPIT_API_URL ?? 'http://127.0.0.1:8025';

function reachable(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, host, () => done(true));
  });
}

function hostPort(url: string, defaultPort: number): [string, number] {
  const m = /^(?:[a-z+]+:\/\/)?(?:[^@/]*@)?([^/:,?]+)(?::(\d+))?/.exec(url);
  return [m?.[1] ?? '127.0.0.1', Number(m?.[2] ?? defaultPort)];
}

/**
 * Whether a suite's service answers. `npm test` starts every service first, so a missing one
 * fails the suite; only with EVENTLOOM_SKIP_SERVICES=1 (never under CI=true) does it skip,
 * printing why.
 */
export async function serviceAvailable(
  name: 'mongodb' | 'kafka' | 'postgres' | 'smtp',
): Promise<boolean> {
  const [host, port] =
    name === 'mongodb'
      ? hostPort(MONGODB_URL, 27017)
      : name === 'kafka'
        ? hostPort(KAFKA_BROKERS.split(',')[0] ?? '', 9092)
        : name === 'smtp'
          ? hostPort(SMTP_URL, 1025)
          : hostPort(DATABASE_URL, 5432);
  // The SMTP catcher is only usable with its API, where the suites read the mail back.
  const [apiHost, apiPort] = hostPort(MAILPIT_API_URL, 8025);
  const ok =
    (await reachable(host, port)) && (name !== 'smtp' || (await reachable(apiHost, apiPort)));
  if (!ok) {
    skipOrFail(
      `${name} suites`,
      `${name} is not reachable at ${host}:${port}; start it with \`npm run services:up\``,
    );
  }
  return ok;
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}
