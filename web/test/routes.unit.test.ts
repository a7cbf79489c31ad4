import { describe, expect, it } from 'vitest';
import { parseRoute, type Route, routePath } from '../src/lib/routes.ts';

describe('routes', () => {
  it('reads every page from its path', () => {
    expect(parseRoute('/')).toEqual({ name: 'feed' });
    expect(parseRoute('/shop/')).toEqual({ name: 'shop' });
    expect(parseRoute('/users/ada')).toEqual({ name: 'userFeed', username: 'ada' });
    expect(parseRoute('/login', '?username=ada')).toEqual({ name: 'login', username: 'ada' });
    expect(parseRoute('/explorer/streams/order-1', '?version=2')).toEqual({
      name: 'stream',
      streamId: 'order-1',
      version: 2,
    });
  });

  it('ignores a version that is not a number and shows unknown paths as not found', () => {
    expect(parseRoute('/explorer/streams/order-1', '?version=x')).toEqual({
      name: 'stream',
      streamId: 'order-1',
      version: undefined,
    });
    expect(parseRoute('/nope')).toEqual({ name: 'notFound', path: '/nope' });
    expect(parseRoute('/users/%E0%A4%A')).toEqual({ name: 'notFound', path: '/users/%E0%A4%A' });
  });

  it('writes paths that read back as the same page, whatever the stream id holds', () => {
    const routes: Route[] = [
      { name: 'feed' },
      { name: 'userFeed', username: 'a.b-c' },
      { name: 'signup' },
      { name: 'login' },
      { name: 'login', username: 'ada' },
      { name: 'profile' },
      { name: 'shop' },
      { name: 'explorer' },
      { name: 'stream', streamId: 'odd/stream id?#%', version: undefined },
      { name: 'stream', streamId: 'order-1', version: 3 },
      { name: 'stream', streamId: 'order-1', version: undefined, event: 'e/1?' },
      { name: 'workflows' },
      { name: 'workflow', workflow: 'order', instanceId: 'odd/id?#%' },
      { name: 'mailbox' },
    ];
    for (const route of routes) {
      const url = new URL(routePath(route), 'http://localhost');
      expect(parseRoute(url.pathname, url.search)).toEqual(route);
    }
  });

  it('reads the workflow pages and a stream opened at one of its events', () => {
    expect(parseRoute('/explorer/workflows')).toEqual({ name: 'workflows' });
    expect(parseRoute('/explorer/workflows/order/0190-1')).toEqual({
      name: 'workflow',
      workflow: 'order',
      instanceId: '0190-1',
    });
    expect(parseRoute('/explorer/streams/order-1', '?event=abc')).toEqual({
      name: 'stream',
      streamId: 'order-1',
      version: undefined,
      event: 'abc',
    });
    expect(parseRoute('/mailbox')).toEqual({ name: 'mailbox' });
  });
});
