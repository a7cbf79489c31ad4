import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runnableBlocks } from './runnableBlocks.js';
import { brokenLinks } from './siteLinks.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function site(files: Record<string, string>): string {
  dir = mkdtempSync(join(tmpdir(), 'eventloom-docs-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

describe('the link check of the built site', () => {
  it('accepts clean URLs, folder indexes, assets and anchors that exist', () => {
    const dist = site({
      'index.html':
        '<a href="/guide/intro#setup">x</a><a href="/reference/">r</a><a href="#top">t</a><a href="https://example.com/x#y">e</a><link href="/assets/style.css">',
      'guide/intro.html': '<h2 id="setup">Setup</h2>',
      'reference/index.html': '<p id="top">r</p>',
      'assets/style.css': '',
    });
    // `#top` on the home page itself is missing: the only complaint.
    expect(brokenLinks(dist)).toEqual({
      broken: ['/index.html: #top (no element with id "top")'],
      checked: 4,
    });
  });

  it('names a link to a missing page and one to a missing anchor', () => {
    const dist = site({
      'index.html': '<a href="/guide/missing">m</a><a href="./guide/intro.html#nope">n</a>',
      'guide/intro.html': '<h2 id="setup">Setup</h2>',
    });
    expect(brokenLinks(dist).broken).toEqual([
      '/index.html: /guide/missing (no such page)',
      '/index.html: ./guide/intro.html#nope (no element with id "nope")',
    ]);
  });
});

describe('the runnable code blocks of a page', () => {
  it('are the ts blocks marked runnable, with their file names', () => {
    const docs = site({
      'page.md': [
        '# Page',
        '```ts runnable file=a.ts',
        'export const a = 1;',
        '```',
        '```ts',
        'not runnable',
        '```',
        '````md',
        '```ts runnable',
        'inside an example of markdown',
        '```',
        '````',
        '```typescript runnable',
        "import { a } from './a.js';",
        '```',
      ].join('\n'),
    });
    expect(runnableBlocks(docs, 'page.md')).toEqual([
      { page: 'page.md', line: 2, file: 'a.ts', code: 'export const a = 1;\n' },
      { page: 'page.md', line: 13, file: 'block-2.ts', code: "import { a } from './a.js';\n" },
    ]);
  });
});
