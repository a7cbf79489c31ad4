import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  exports: Record<string, string | { types: string; default: string }>;
};

/** Names each subpath must export: the contracts DESIGN.md promises. */
const REQUIRED: Record<string, string[]> = {
  '.': [
    'isConcurrencyError',
    'createMemoryEventStore',
    'createCommandHandler',
    'AggregateRoot',
    'startProjection',
    'defineWorkflow',
    'runWorkflow',
    'readWorkflowInstance',
  ],
  './sqlite': ['createSqliteEventStore', 'createSqliteProjectionTarget'],
  './testing': ['DeciderSpecification', 'WorkflowSpecification', 'createMemoryEventStore'],
  './mongodb': ['createMongoEventStore', 'createMongoProjectionTarget'],
  './kafka': [
    'startKafkaPublisher',
    'startKafkaConsumer',
    'createProcessedEvents',
    'runKafkaWorkflow',
  ],
  './relay': ['startRelay', 'parseRelayConfig'],
  './postgres': ['createPostgresProjectionTarget'],
  './server': ['createServer', 'runApp'],
};

describe('package exports', () => {
  const subpaths = Object.keys(pkg.exports).filter((k) => k !== './package.json');

  it.each(subpaths)('resolves %s from the built package with its types', (subpath) => {
    const entry = pkg.exports[subpath] as { types: string; default: string };
    expect(
      existsSync(join(root, entry.default)),
      `${entry.default} is missing: run npm run build`,
    ).toBe(true);
    expect(existsSync(join(root, entry.types)), `${entry.types} is missing`).toBe(true);
    const specifier = subpath === '.' ? 'eventloom' : `eventloom/${subpath.slice(2)}`;
    const out = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const m = await import('${specifier}'); console.log(JSON.stringify(Object.keys(m)))`,
      ],
      { cwd: root, encoding: 'utf8' },
    );
    const names = JSON.parse(out) as string[];
    for (const name of REQUIRED[subpath] ?? []) expect(names).toContain(name);
  });

  it('keeps the core free of I/O: no node:* or driver imports under src/core (only the pure @opentelemetry/api)', () => {
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.name.endsWith('.ts')) {
          const source = readFileSync(path, 'utf8');
          for (const m of source.matchAll(/^(?:import|export)\b[^;]*?from\s+'([^']+)'/gm)) {
            const spec = m[1]!;
            if (
              spec.startsWith('node:') ||
              (!spec.startsWith('.') && spec !== '@opentelemetry/api') ||
              /\.\.\/(sqlite|mongodb|kafka|server|cli|relay)\//.test(spec)
            ) {
              offenders.push(`${path}: ${spec}`);
            }
          }
        }
      }
    };
    walk(join(root, 'src/core'));
    expect(offenders).toEqual([]);
  });
});
