import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createHarness, type Harness } from './serverHarness.js';

let h: Harness;
let hostRegistration: unknown;
let schemas: Record<string, { properties?: Record<string, unknown> }>;
beforeAll(async () => {
  // A host application embedding the server names schemas of its own in zod's global
  // registry, one of them with an id Eventloom uses too.
  try {
    z.object({ widget: z.string() }).meta({ id: 'HostWidget' });
    z.object({ host: z.boolean() }).meta({ id: 'User' });
  } catch (error) {
    hostRegistration = error;
  }
  h = await createHarness();
  const res = await h.request('/api/openapi.json');
  schemas = ((await res.json()) as { components: { schemas: typeof schemas } }).components.schemas;
});
afterAll(async () => {
  await h.close();
});

describe('the OpenAPI document and a host application’s zod schemas', () => {
  it('leaves z.globalRegistry to the host: its ids do not collide with Eventloom’s', () => {
    expect(hostRegistration).toBeUndefined();
  });

  it('renders only Eventloom’s own schemas, whatever the global registry holds', () => {
    expect(schemas).not.toHaveProperty('HostWidget');
    expect(Object.keys(schemas.User?.properties ?? {})).not.toContain('host');
    expect(Object.keys(schemas.User?.properties ?? {})).toContain('username');
  });
});
