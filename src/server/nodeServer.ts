import { getRequestListener, RequestError } from '@hono/node-server';
import { createServer, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../core/logger.js';
import { bareProblemResponse, rawProblemResponse } from './problem.js';

/** What the HTTP parser's error codes mean for the client, as problems. */
function parserProblem(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return rawProblemResponse(
        'headers-too-large',
        'The request headers are larger than the server accepts (16 KiB); send fewer or smaller headers',
      );
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return rawProblemResponse(
        'request-timeout',
        'The request headers or body did not arrive in time; send the whole request at once',
      );
    default:
      return rawProblemResponse(
        'malformed-request',
        `The request is not valid HTTP/1.1 (${error.code ?? error.message}); check the request line, headers and body framing`,
      );
  }
}

/**
 * A Node HTTP server for a fetch handler that hands the socket on (the client address) and
 * answers every request it cannot pass on in the API's problem format, where Node and the
 * adapter would send a bare status line: unparsable requests, oversized headers, a missing
 * Host, a target that is no URL.
 */
export function createNodeServer(
  fetch: (request: Request, env: unknown) => Response | Promise<Response>,
  log: Logger,
): Server {
  const listener = getRequestListener(fetch, {
    errorHandler: (error) => {
      if (error instanceof RequestError) {
        return bareProblemResponse(
          'malformed-request',
          /host/i.test(error.message)
            ? 'The request has no Host header; send Host: <the server name and port>'
            : `The request target is not a valid URL (${error.message})`,
        );
      }
      log.error({ error }, 'request failed before it reached the app');
      return bareProblemResponse(
        'internal-error',
        'The request failed before it reached the app; the server log has the details',
      );
    },
  });
  // Without this Node answers a missing Host itself; the adapter then refuses it above.
  const http = createServer({ requireHostHeader: false }, (req, res) => void listener(req, res));
  http.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    // A reset or a response already under way has nobody left to answer.
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    socket.end(parserProblem(error));
  });
  return http;
}
