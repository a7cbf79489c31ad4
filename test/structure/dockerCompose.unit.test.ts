// docker-compose.workers.yml cannot run here (no Docker): its wiring is checked by reading it.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { WORKER_NAMES } from '../../src/workers/index.js';

interface Service {
  command?: string[];
  environment?: Record<string, string>;
  build?: string;
}
const compose = parse(
  readFileSync(new URL('../../docker-compose.workers.yml', import.meta.url), 'utf8'),
  {
    merge: true,
  },
) as { services: Record<string, Service> };

describe('docker-compose.workers.yml', () => {
  it('runs the app in workers mode beside Kafka and MongoDB', () => {
    const app = compose.services.app!;
    expect(app.command).toEqual(['start']);
    expect(app.environment).toMatchObject({
      KAFKA_BROKERS: 'kafka:9092',
      EVENTLOOM_SERVICES: 'workers',
    });
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(['kafka', 'mongodb']));
  });

  it.each(WORKER_NAMES)('runs the %s worker as its own container on Kafka', (name) => {
    const service = compose.services[name]!;
    expect(service.build).toBe('.');
    expect(service.command).toEqual(['worker', name]);
    expect(service.environment?.KAFKA_BROKERS).toBe('kafka:9092');
    if (name === 'notifications')
      expect(service.environment?.EVENTLOOM_KEY_STORE).toMatch(/^mongodb:/);
  });
});
