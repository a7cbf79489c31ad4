import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigurationError } from '../core/errors.js';

/** `/health` (JSON, 503 when failed) and `/metrics` (Prometheus text) on a small port. */
export async function startOpsServer(options: {
  host: string;
  port: number;
  health: () => { ok: boolean; body: Record<string, unknown> };
  metrics: () => Promise<string>;
  metricsContentType: string;
  /** Who serves them, for messages (default: the relay). */
  owner?: { name: string; portHint: string };
}): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const owner = options.owner ?? {
    name: 'relay',
    portHint:
      'give each relay its own server.port (or --port), 0 for any free port, or server: false to turn them off',
  };
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/health') {
      const { ok, body } = options.health();
      res
        .writeHead(ok ? 200 : 503, { 'content-type': 'application/json' })
        .end(JSON.stringify(body));
    } else if (path === '/metrics') {
      options.metrics().then(
        (text) => res.writeHead(200, { 'content-type': options.metricsContentType }).end(text),
        (error: unknown) =>
          res
            .writeHead(500, { 'content-type': 'text/plain; charset=utf-8' })
            .end(`metrics failed: ${error instanceof Error ? error.message : String(error)}\n`),
      );
    } else {
      res.writeHead(404, { 'content-type': 'application/problem+json' }).end(
        JSON.stringify({
          type: 'about:blank',
          title: 'Not Found',
          status: 404,
          detail: `the ${owner.name} serves /health and /metrics`,
        }),
      );
    }
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => resolve());
    });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const why =
      code === 'EADDRINUSE'
        ? `is already in use (another ${owner.name} on this host?)`
        : code === 'EACCES'
          ? 'may not be opened by this user'
          : `cannot be opened (${(error as Error).message})`;
    throw new ConfigurationError(
      `${owner.name} /health and /metrics: port ${options.port} on ${options.host} ${why}; ${owner.portHint}`,
      { cause: error, details: { host: options.host, port: options.port } },
    );
  }
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
