import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** A fenced code block marked runnable: ```ts runnable (optionally `file=name.ts`). */
export interface RunnableBlock {
  /** The page, relative to docs/ (`getting-started/library.md`). */
  page: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** Its file name in the page's folder of snippets (`file=` or `block-<n>.ts`). */
  file: string;
  code: string;
}

/** Markdown pages under `dir`, skipping VitePress's own folder and generated references. */
export function markdownPages(dir: string, root = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name === '.vitepress' || entry.name === 'node_modules') return [];
      return markdownPages(path, root);
    }
    return entry.name.endsWith('.md') ? [relative(root, path)] : [];
  });
}

const FENCE = /^(`{3,}|~{3,})\s*(\S+)?(.*)$/;

/** The runnable blocks of one page, in page order. */
export function runnableBlocks(docsDir: string, page: string): RunnableBlock[] {
  const lines = readFileSync(join(docsDir, page), 'utf8').split('\n');
  const blocks: RunnableBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!);
    if (!open) continue;
    const [, fence, lang = '', rest = ''] = open;
    const close = lines.findIndex((l, j) => j > i && l.trim() === fence);
    const end = close === -1 ? lines.length : close;
    const words = rest.trim().split(/\s+/);
    if (['ts', 'typescript'].includes(lang) && words.includes('runnable')) {
      const named = words.find((w) => w.startsWith('file='))?.slice('file='.length);
      blocks.push({
        page,
        line: i + 1,
        file: named ?? `block-${blocks.length + 1}.ts`,
        code: lines.slice(i + 1, end).join('\n') + '\n',
      });
    }
    i = end;
  }
  return blocks;
}
