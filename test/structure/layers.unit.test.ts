// The layer table of eslint.config.js holds for every folder of src/, and lint really fails an
// upward import: probes are written into src/, linted with ESLint's Node API, and removed.
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const src = join(root, 'src');
interface Layer {
  imports: string[];
  packages: string[] | 'none' | 'all';
  pure?: boolean;
  edge?: boolean;
}
let layers: Record<string, Layer>;

beforeAll(async () => {
  const configUrl = new URL('../../eslint.config.js', import.meta.url).href;
  ({ LAYERS: layers } = (await import(configUrl)) as { LAYERS: Record<string, Layer> });
});

const eslint = new ESLint({ cwd: root });

/** Lints `code` as the file `src/<folder>/<name>.ts`; returns the messages. */
async function lintProbe(folder: string, code: string): Promise<string[]> {
  const file = join(src, folder, `layerProbe${randomUUID().slice(0, 8)}.ts`);
  writeFileSync(file, code);
  try {
    const [result] = await eslint.lintFiles([file]);
    return (result?.messages ?? []).map((m) => `${m.ruleId ?? 'parse'}: ${m.message}`);
  } finally {
    rmSync(file, { force: true });
  }
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

describe('the layers of src/', () => {
  it('has every folder of src/ in the layer table of eslint.config.js', () => {
    const folders = readdirSync(src).filter((name) => statSync(join(src, name)).isDirectory());
    expect(folders.filter((f) => !(f in layers))).toEqual([]);
  });

  it.each([
    ['core', "export { createServer } from '../server/createServer.js';", 'src/core may import'],
    ['core', "export { readFileSync } from 'node:fs';", 'src/core is pure'],
    ['core', "export { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';", 'is pure'],
    ['core', "export { context } from '@opentelemetry/api-logs';", 'src/core is pure'],
    ['core', "export const sift = () => import('sift');", 'src/core is pure'],
    ['kafka', "export { cliLogger } from '../cli/cliLogger.js';", 'src/kafka may import'],
    ['sqlite', "export { createMongoEventStore } from '../mongodb/index.js';", 'src/sqlite'],
    ['relay', "export { cliLogger } from '../cli/cliLogger.js';", 'src/relay may import'],
    ['server', "export const cli = () => import('../cli/main.js');", 'src/server may import'],
    ['bench', "export { cliLogger } from '../cli/cliLogger.js';", 'src/bench may import'],
    ['workers', "export { cliLogger } from '../cli/cliLogger.js';", 'src/workers may import'],
    ['server', "export { WORKER_NAMES } from '../workers/index.js';", 'src/server may import'],
    ['app', "export { createServer } from '../server/index.js';", 'src/app may import'],
    ['app', "export { runAppServices } from './services/runAppServices.js';", 'src/app may'],
    [
      'app/services',
      "export { createServer } from '../../server/index.js';",
      'src/app/services may import',
    ],
    ['mongodb', "export { Hono } from 'hono';", 'may not use this driver'],
  ])('fails lint for an upward or sideways import from src/%s: %s', async (folder, code, why) => {
    const messages = await lintProbe(folder, code);
    expect(messages.join('\n')).toContain(why);
  });

  it('passes lint for imports the table allows', async () => {
    expect(
      await lintProbe(
        'relay',
        [
          "export { ConfigurationError } from '../core/errors.js';",
          "export { createProcessLogger } from '../node/processLogger.js';",
          "export { startKafkaPublisher } from '../kafka/index.js';",
          "export { MongoClient } from 'mongodb';",
        ].join('\n'),
      ),
    ).toEqual([]);
    expect(
      await lintProbe(
        'core',
        "export { trace } from '@opentelemetry/api';\nexport type { Span } from '@opentelemetry/api';",
      ),
    ).toEqual([]);
    expect(
      await lintProbe(
        'kafka',
        "export { createMetricsRegistry } from '../node/metricsRegistry.js';",
      ),
    ).toEqual([]);
  });

  it('fails lint for process.env and console in library code', async () => {
    const messages = await lintProbe(
      'postgres',
      'export const url = process.env.DATABASE_URL;\nconsole.warn(url);\n',
    );
    expect(messages).toEqual([
      expect.stringContaining('no-restricted-properties: '),
      expect.stringContaining('no-console: '),
    ]);
  });

  it('reads process.env, writes to the console and emits process warnings only at the edges', () => {
    const edges = Object.entries(layers)
      .filter(([, layer]) => layer.edge === true)
      .map(([folder]) => folder);
    expect(edges.sort()).toEqual(['bench', 'cli']);
    const found: string[] = [];
    for (const file of sourceFiles(src)) {
      const folder = relative(src, file).split(sep)[0]!;
      if (edges.includes(folder)) continue;
      const text = readFileSync(file, 'utf8');
      const sourceFile = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
      const visit = (node: ts.Node): void => {
        if (ts.isPropertyAccessExpression(node)) {
          const access = node.getText(sourceFile);
          if (/^(process\.env|process\.emitWarning|console\.\w+)$/.test(access)) {
            found.push(`${relative(root, file)}: ${access}`);
          }
        }
        ts.forEachChild(node, visit);
      };
      visit(sourceFile);
    }
    expect(found).toEqual([]);
  });
});
