import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { sendFrom, useRealApp } from './realSocket.js';

const { app } = useRealApp({}, 'eventloom-malformed-');

/** Sends raw bytes and reads until the server closes the connection. */
function raw(bytes: string): Promise<string> {
  const { hostname, port } = new URL(app().url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => socket.write(bytes));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.on('error', reject);
  });
}

function parse(response: string): { status: number; headers: string; body: string } {
  const [head = '', body = ''] = response.split('\r\n\r\n');
  return { status: Number(head.split(' ')[1]), headers: head.toLowerCase(), body };
}

describe('malformed requests over a real socket', () => {
  it('answers a request the HTTP parser refuses with a 400 problem+json', async () => {
    const res = parse(await raw('GARBAGE\r\n\r\n'));
    expect(res.status).toBe(400);
    expect(res.headers).toContain('content-type: application/problem+json');
    expect(JSON.parse(res.body)).toMatchObject({
      type: 'urn:eventloom:problem:malformed-request',
      status: 400,
    });
  });

  it('answers a request without a Host header with a 400 problem+json that asks for one', async () => {
    for (const request of [
      'GET /api/v1/info HTTP/1.1\r\nConnection: close\r\n\r\n',
      'GET /api/v1/info HTTP/1.0\r\n\r\n',
    ]) {
      const res = parse(await raw(request));
      expect(res.status, request).toBe(400);
      expect(res.headers, request).toContain('content-type: application/problem+json');
      expect(res.body, request).toContain('Host');
    }
  });

  it('answers headers beyond the size limit with a 431 problem+json', async () => {
    const res = parse(
      await raw(
        `GET /api/v1/info HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      ),
    );
    expect(res.status).toBe(431);
    expect(res.headers).toContain('content-type: application/problem+json');
    expect(JSON.parse(res.body)).toMatchObject({ status: 431 });
  });

  it('answers HEAD errors with the problem+json content type and no body', async () => {
    for (const path of ['/nowhere', '/api/v1/users/nobody', '/api/events?limit=abc']) {
      const res = await sendFrom('127.0.0.1', `${app().url}${path}`, { method: 'HEAD' });
      expect(res.status, path).toBeGreaterThanOrEqual(400);
      expect(res.status, path).toBeLessThan(500);
      expect(res.headers['content-type'], path).toMatch(/^application\/problem\+json/);
      expect(res.text).toBe('');
    }
  });

  it('reads a body whole over a real socket, with Content-Length or chunked, and answers 413 to one over the limit either way', async () => {
    const post = (headers: string, body: string) =>
      raw(
        `POST /api/v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\n${headers}\r\n${body}`,
      );
    const chunked = (text: string): string => {
      const half = Math.floor(text.length / 2);
      return (
        [text.slice(0, half), text.slice(half)]
          .map((part) => `${Buffer.byteLength(part).toString(16)}\r\n${part}\r\n`)
          .join('') + '0\r\n\r\n'
      );
    };
    const user = (name: string) =>
      JSON.stringify({
        username: name,
        email: `${name}@example.com`,
        name,
        password: 'correct horse',
      });

    const sized = user('sized');
    expect(parse(await post(`Content-Length: ${Buffer.byteLength(sized)}\r\n`, sized)).status).toBe(
      201,
    );
    expect(
      parse(await post('Transfer-Encoding: chunked\r\n', chunked(user('chunks')))).status,
    ).toBe(201);

    const big = JSON.stringify({ username: 'big', padding: 'x'.repeat(70 * 1024) });
    for (const res of [
      parse(await post(`Content-Length: ${Buffer.byteLength(big)}\r\n`, big)),
      parse(await post('Transfer-Encoding: chunked\r\n', chunked(big))),
    ]) {
      expect(res.status).toBe(413);
      expect(JSON.parse(res.body)).toMatchObject({
        type: 'urn:eventloom:problem:payload-too-large',
      });
    }
  });
});
