/**
 * The documentation site: built once here by `npm run docs:build` (the reference pages are
 * generated from the code as part of it), then checked as a reader would meet it.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, launchChromium } from '../e2e/chromium.js';
import { markdownPages, type RunnableBlock, runnableBlocks } from './runnableBlocks.js';
import { brokenLinks, resolveSitePath } from './siteLinks.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOCS = join(ROOT, 'docs');
const DIST = join(DOCS, '.vitepress', 'dist');
const OUTPUT = join(ROOT, 'test-output');
/** Inside the repository, so `eventloom/sqlite` resolves to dist/ through the package's exports. */
const SNIPPETS = join(OUTPUT, 'docs-snippets');
const LIBRARY_TRACK = 'getting-started/library.md';

function run(
  command: string,
  args: string[],
  cwd: string,
  timeoutMs: number,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      // A hung build is killed rather than left to the test's own timeout.
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

let build: { code: number | null; output: string };

beforeAll(async () => {
  build = await run('npm', ['run', 'docs:build'], ROOT, 240_000);
}, 250_000);

describe('npm run docs:build', () => {
  it('builds the site and its generated reference without a warning', () => {
    // eslint-disable-next-line no-control-regex
    const lines = build.output.replace(/\x1b\[[0-9;]*m/g, '').split('\n');
    const complaints = lines.filter((l) => /warn|\(!\)|dead link|error|✖/i.test(l));
    expect(complaints, build.output).toEqual([]);
    expect(build.code, build.output).toBe(0);
    for (const page of ['index.html', 'reference/cli.html', 'reference/api/index.html']) {
      expect(existsSync(join(DIST, page)), page).toBe(true);
    }
  });

  it('generates every reference page from the code', () => {
    const cli = readFileSync(join(DIST, 'reference', 'cli.html'), 'utf8');
    expect(cli).toContain('eventloom relay dlq replay');
    const config = readFileSync(join(DIST, 'reference', 'configuration.html'), 'utf8');
    expect(config).toContain('EVENTLOOM_STORE');
    const relay = readFileSync(join(DIST, 'reference', 'relay-config.html'), 'utf8');
    expect(relay).toContain('onHistoryLost');
    const http = readFileSync(join(DIST, 'reference', 'http-api.html'), 'utf8');
    expect(http).toContain('/api/shop/orders/{id}/payments');
    const api = readdirSync(join(DIST, 'reference', 'api', 'eventloom'));
    expect(api).toEqual(expect.arrayContaining(['sqlite', 'mongodb', 'relay', 'testing']));
  });
});

describe('the built site', () => {
  it('has no internal link to a missing page or a missing anchor', () => {
    const { broken, checked } = brokenLinks(DIST);
    expect(checked).toBeGreaterThan(1000);
    expect(broken).toEqual([]);
  });
});

describe('code blocks marked runnable', () => {
  const blocks: RunnableBlock[] = markdownPages(DOCS)
    .filter((page) => !page.startsWith('reference/'))
    .flatMap((page) => runnableBlocks(DOCS, page));
  const folder = (block: RunnableBlock): string =>
    join(SNIPPETS, block.page.replace(/\.md$/, '').replaceAll('/', '__'));
  const fileOf = (block: RunnableBlock): string => join(folder(block), block.file);

  beforeAll(() => {
    rmSync(SNIPPETS, { recursive: true, force: true });
    for (const block of blocks) {
      mkdirSync(folder(block), { recursive: true });
      writeFileSync(fileOf(block), block.code);
    }
  });

  it('compile against the package types with strict settings', () => {
    expect(blocks.filter((b) => b.page === LIBRARY_TRACK).length).toBeGreaterThanOrEqual(4);
    const program = ts.createProgram(blocks.map(fileOf), {
      target: ts.ScriptTarget.ES2022,
      lib: ['lib.es2023.d.ts'],
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      strict: true,
      noUncheckedIndexedAccess: true,
      noImplicitOverride: true,
      verbatimModuleSyntax: true,
      skipLibCheck: true,
      noEmit: true,
      types: ['node'],
    });
    const where = new Map(blocks.map((b) => [fileOf(b), `docs/${b.page}:${b.line}`]));
    const problems = ts.getPreEmitDiagnostics(program).map((d) => {
      const text = ts.flattenDiagnosticMessageText(d.messageText, '\n');
      if (!d.file || d.start === undefined) return text;
      const { line } = d.file.getLineAndCharacterOfPosition(d.start);
      const block = where.get(d.file.fileName) ?? d.file.fileName;
      return `${block} (+${line + 1} in the block): ${text}`;
    });
    expect(problems).toEqual([]);
  });

  it('of the library track run in page order and exit 0', async () => {
    const track = blocks.filter((b) => b.page === LIBRARY_TRACK);
    rmSync(join(folder(track[0]!), 'data'), { recursive: true, force: true });
    const tsx = join(ROOT, 'node_modules', '.bin', 'tsx');
    for (const block of track) {
      const result = await run(tsx, [block.file], folder(block), 60_000);
      expect(result.code, `docs/${block.page}:${block.line} ${block.file}\n${result.output}`).toBe(
        0,
      );
    }
  }, 120_000);
});

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.png': 'image/png',
};

describe.skipIf(!chromiumAvailable())('the built site in Chromium', () => {
  let server: Server;
  let origin: string;

  beforeAll(async () => {
    // The built files as a static host serves them, with VitePress's clean URLs.
    server = createServer((req, res) => {
      const file = resolveSitePath(DIST, new URL(req.url ?? '/', 'http://site').pathname);
      if (file === undefined) {
        res.writeHead(404).end('not found');
        return;
      }
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
      res.end(readFileSync(file));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    mkdirSync(OUTPUT, { recursive: true });
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
  });

  /** A guide when there is one, else the first getting-started track. */
  function guidePath(): string {
    const guides = join(DIST, 'guides');
    const first = existsSync(guides)
      ? readdirSync(guides)
          .filter((f) => f.endsWith('.html'))
          .sort()[0]
      : undefined;
    return first ? `/guides/${first.replace(/\.html$/, '')}` : '/getting-started/library';
  }

  it('shows the home page and a guide without console errors or failed requests', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(`console: ${m.text()} (${m.location().url})`);
      });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('requestfailed', (r) =>
        problems.push(`failed: ${r.url()} ${r.failure()?.errorText}`),
      );
      page.on('response', (r) => {
        if (r.status() >= 400) problems.push(`${r.status()}: ${r.url()}`);
      });

      await page.goto(`${origin}/`, { waitUntil: 'networkidle' });
      await expect.poll(() => page.locator('.VPHero .name').textContent()).toContain('Eventloom');
      await page.screenshot({ path: join(OUTPUT, 'docs-home.png'), fullPage: true });

      const guide = guidePath();
      await page.goto(`${origin}${guide}`, { waitUntil: 'networkidle' });
      await expect.poll(() => page.locator('.vp-doc h1').count()).toBe(1);
      expect(await page.locator('.VPSidebar').isVisible()).toBe(true);
      await page.screenshot({ path: join(OUTPUT, 'docs-guide.png'), fullPage: true });

      // The local search opens and finds a page.
      await page.locator('button.DocSearch-Button').click();
      await page.locator('.VPLocalSearchBox input').fill('subscription');
      await expect.poll(() => page.locator('.VPLocalSearchBox .result').count()).toBeGreaterThan(0);

      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 60_000);
});
