import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SidebarItem {
  text: string;
  link: string;
}

/** The pages of a folder in the given order, unknown ones after; titles from their `# ` heading. */
export function folderItems(
  docsDir: string,
  folder: string,
  order: readonly string[],
): SidebarItem[] {
  const dir = join(docsDir, folder);
  if (!existsSync(dir)) return [];
  const present = readdirSync(dir).filter((f) => f.endsWith('.md') && f !== 'index.md');
  const known = order.filter((f) => present.includes(f));
  const unknown = present.filter((f) => !order.includes(f)).sort();
  return [...known, ...unknown].map((file) => ({
    text: pageTitle(join(dir, file)) ?? file.replace(/\.md$/, ''),
    link: `/${folder}/${file.replace(/\.md$/, '')}`,
  }));
}

function pageTitle(file: string): string | undefined {
  const heading = /^# (.+)$/m.exec(readFileSync(file, 'utf8'));
  return heading?.[1]?.trim();
}
