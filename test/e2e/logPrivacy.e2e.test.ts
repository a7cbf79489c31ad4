// Server logs are a copy of whatever they print: a real `eventloom start` process at its most
// verbose level, read from its own stdout and stderr.
import { describe, expect, it } from 'vitest';
import { startEventloom } from './eventloomProcess.js';

const person = {
  username: 'loggedperson',
  email: 'logged.person@logs.test',
  name: 'Loggedname Person',
  password: 'correct horse battery',
};

describe('the server logs', () => {
  it('carry no username, email, name, password or credentials, even at debug level', async () => {
    const server = await startEventloom({ env: { LOG_LEVEL: 'debug' } });
    try {
      const basic = `Basic ${Buffer.from(`${person.username}:${person.password}`).toString('base64')}`;
      const registered = await fetch(`${server.url}/api/v1/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(person),
      });
      expect(registered.status).toBe(201);
      const requests = [
        fetch(`${server.url}/api/v1/users/${person.username}`, {
          headers: { authorization: basic },
        }),
        fetch(`${server.url}/api/v2/tweets/${person.username}`),
        fetch(`${server.url}/api/v1/users/${encodeURIComponent(person.email)}`),
        fetch(`${server.url}/api/session`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: person.username, password: person.password }),
        }),
      ];
      for (const response of await Promise.all(requests)) await response.arrayBuffer();
      // One debug line per request (the registration and the four above) reaches the pipe.
      await expect
        .poll(() => server.output().split('"msg":"request"').length - 1)
        .toBeGreaterThanOrEqual(5);
      for (const secret of [person.username, person.email, person.name, person.password, basic]) {
        expect(server.output()).not.toContain(secret);
      }
    } finally {
      await server.stop();
    }
  });
});
