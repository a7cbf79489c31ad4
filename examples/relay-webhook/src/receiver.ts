import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { signWebhook, webhookKey } from 'eventloom/relay';

/** One change as the relay posts it: the change event, as relaxed Extended JSON. */
export interface ChangeBody {
  operationType: string;
  ns: { db: string; coll: string };
  documentKey?: { _id: unknown };
  fullDocument?: Record<string, unknown>;
}

export interface Receiver {
  url: string;
  /** Changes accepted, once each (a redelivery with a known webhook-id is acknowledged and skipped). */
  changes: ChangeBody[];
  close(): Promise<void>;
}

/**
 * A webhook endpoint that checks the Standard Webhooks signature, answers 2xx only after it
 * handled the change, and deduplicates by `webhook-id`: the relay delivers at least once.
 */
export async function startReceiver(secret: string, port = 0): Promise<Receiver> {
  const key = webhookKey(secret);
  const seen = new Set<string>();
  const changes: ChangeBody[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const id = String(req.headers['webhook-id'] ?? '');
      const timestamp = String(req.headers['webhook-timestamp'] ?? '');
      const signatures = String(req.headers['webhook-signature'] ?? '').split(' ');
      if (!signatures.includes(signWebhook(key, id, timestamp, body))) {
        res.writeHead(401).end('bad signature'); // 4xx: the relay dead-letters, never retries
        return;
      }
      if (!seen.has(id)) {
        seen.add(id);
        const change = JSON.parse(body) as ChangeBody;
        changes.push(change);
        console.log(
          `webhook: ${change.operationType} ${change.ns.db}.${change.ns.coll} ${JSON.stringify(change.fullDocument ?? change.documentKey)}`,
        );
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}/hooks/orders`,
    changes,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

// `npm run receiver`: listen on 8080 for a relay started with `npm run relay`.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const receiver = await startReceiver(
    process.env.WEBHOOK_SECRET ?? 'whsec_ZXhhbXBsZS1zZWNyZXQtZm9yLWRvY3M=',
    Number(process.env.PORT ?? 8080),
  );
  console.log(`listening on ${receiver.url}`);
}
