import { describe, expect, it } from 'vitest';
import { createMetricsRegistry } from '../../src/node/metricsRegistry.js';
import { createMetrics } from '../../src/server/metrics.js';
import { sendFrom, useRealApp } from './realSocket.js';

const { app } = useRealApp({}, 'eventloom-metrics-');

describe('/metrics of the server', () => {
  it('serves the process metrics and the request counters from one registry over a real socket', async () => {
    const info = await sendFrom('127.0.0.1', `${app().url}/api/v1/info`);
    expect(info.status).toBe(200);
    const metrics = await sendFrom('127.0.0.1', `${app().url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(metrics.text).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(metrics.text).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
    expect(metrics.text).toContain(
      'eventloom_http_requests_total{method="GET",route="/api/v1/info",status="200"} 1',
    );
    expect(metrics.text).toMatch(/^eventloom_store_head_position \d+/m);
    expect(metrics.text).toMatch(
      /^eventloom_subscription_lag_events\{subscription="[^"]+",kind="projection"\} \d+/m,
    );
  });
});

describe('the operational metrics of the app', () => {
  it('time every append by category and count the pending timers of each workflow it runs', async () => {
    const registered = await sendFrom('127.0.0.1', `${app().url}/api/v1/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: {
        username: 'metered',
        email: 'metered@example.com',
        name: 'Metered',
        password: 'correct horse battery',
      },
    });
    expect(registered.status).toBe(201);
    const { text } = await sendFrom('127.0.0.1', `${app().url}/metrics`);
    expect(text).toMatch(/^eventloom_append_duration_seconds_count\{category="user"\} [1-9]/m);
    expect(text).toMatch(
      /^eventloom_append_duration_seconds_bucket\{le="\+Inf",category="user"\} [1-9]/m,
    );
    expect(text).toMatch(/^eventloom_workflow_timers_pending\{workflow="[^"]+"\} 0$/m);
  });
});

describe('the server metrics', () => {
  it('escape a quote, a backslash and a newline in a label value instead of replacing them', async () => {
    const metrics = createMetrics(createMetricsRegistry());
    metrics.countAppended('say "hi"\\now\nthen', 2);
    const text = await metrics.render([]);
    expect(text).toContain(
      'eventloom_events_appended_total{category="say \\"hi\\"\\\\now\\nthen"} 2',
    );
  });
});
