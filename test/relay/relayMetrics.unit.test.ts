import { afterEach, describe, expect, it } from 'vitest';
import { createMetricsRegistry } from '../../src/node/metricsRegistry.js';
import { RelayMetrics, registerRelayMetrics } from '../../src/relay/relayMetrics.js';
import { startOpsServer } from '../../src/relay/relayServer.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

describe('the relay metrics', () => {
  it('escape a quote and a backslash in the relay label instead of turning them into _', async () => {
    const registry = createMetricsRegistry();
    const metrics = new RelayMetrics('orders "eu"\\west');
    metrics.processed = 3;
    registerRelayMetrics(registry, metrics);
    const text = await registry.metrics();
    expect(text).toContain('eventloom_relay_processed_total{relay="orders \\"eu\\"\\\\west"} 3');
    expect(text).not.toContain('orders _eu_');
  });

  it('report every relay of a shared registry by label, and forget a relay that stopped', async () => {
    const registry = createMetricsRegistry();
    const a = new RelayMetrics('a');
    const b = new RelayMetrics('b');
    a.deadLettered = 1;
    b.active = true;
    const unregisterA = registerRelayMetrics(registry, a);
    registerRelayMetrics(registry, b);
    let text = await registry.metrics();
    expect(text).toContain('eventloom_relay_dead_lettered_total{relay="a"} 1');
    expect(text).toContain('eventloom_relay_active{relay="b"} 1');
    unregisterA();
    text = await registry.metrics();
    expect(text).not.toContain('relay="a"');
    expect(text).toContain('eventloom_relay_active{relay="b"} 1');
  });

  it('are served with the process metrics on the ops endpoint over HTTP', async () => {
    const registry = createMetricsRegistry();
    const metrics = new RelayMetrics('ops');
    metrics.streams = 2;
    registerRelayMetrics(registry, metrics);
    const ops = await startOpsServer({
      host: '127.0.0.1',
      port: 0,
      health: () => ({ ok: true, body: {} }),
      metrics: () => registry.metrics(),
      metricsContentType: registry.contentType,
    });
    closers.push(() => ops.close());
    const response = await fetch(`http://127.0.0.1:${ops.port}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(text).toContain('eventloom_relay_streams{relay="ops"} 2');
  });
});
