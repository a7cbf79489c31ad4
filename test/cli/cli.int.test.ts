import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const bin = join(import.meta.dirname, '../../bin/eventloom.js');
const dir = mkdtempSync(join(tmpdir(), 'eventloom-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function eventloom(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    env: { ...process.env, EVENTLOOM_DATA: dir, LOG_LEVEL: 'warn' },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the eventloom command (built package)', () => {
  it('runs the demo, then lists the events it appended and survives a second run', () => {
    expect(eventloom('demo').code).toBe(0);
    const second = eventloom('demo');
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/account-demo is at version \d+/);
    const events = eventloom('events', '--from', '1', '--limit', '3');
    expect(events.code).toBe(0);
    const lines = events.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { position: number; type: string });
    expect(lines.map((e) => e.position)).toEqual([1, 2, 3]);
    expect(lines[0]!.type).toBe('AccountOpened');
  });

  it('rebuilds the reference app projections from the log and lists their checkpoints', () => {
    const rebuilt = eventloom('projections', 'rebuild');
    expect(rebuilt.code).toBe(0);
    expect(rebuilt.stdout).toMatch(/app-users: rebuilt from \d+ events/);
    const list = eventloom('projections', 'list');
    expect(list.stdout).toMatch(/app-shop\tposition \d+\thead \d+\tlag 0/);
  });

  it('names the mistake and exits non-zero on bad input', () => {
    const unknown = eventloom('projections', 'rebuild', 'nope');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('unknown projection nope; known: app-users');
    const backend = eventloom('bench', '--backend', 'nope');
    expect(backend.code).toBe(1);
    expect(backend.stderr).toContain("unknown backend 'nope'");
    const scale = eventloom('bench', '--scale', '-2');
    expect(scale.code).not.toBe(0);
    expect(scale.stderr).toContain("'-2' is not a positive number");
    const relay = eventloom('relay');
    expect(relay.code).not.toBe(0);
    expect(relay.stderr).toMatch(/--config/);
  });
});
