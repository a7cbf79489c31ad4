import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

function htmlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return htmlFiles(path);
    return entry.name.endsWith('.html') ? [path] : [];
  });
}

/** The built file a site path names, with VitePress's clean URLs (`/a/b` → `a/b.html`). */
export function resolveSitePath(dist: string, pathname: string): string | undefined {
  const clean = decodeURIComponent(pathname).replace(/^\//, '');
  const candidates = [clean, `${clean}.html`, join(clean, 'index.html')];
  return candidates
    .map((c) => join(dist, c))
    .find((file) => existsSync(file) && statSync(file).isFile());
}

const ids = new Map<string, Set<string>>();
function idsOf(file: string): Set<string> {
  let found = ids.get(file);
  if (!found) {
    const html = readFileSync(file, 'utf8');
    found = new Set([...html.matchAll(/\sid="([^"]+)"/g)].map((m) => decodeEntities(m[1]!)));
    ids.set(file, found);
  }
  return found;
}

const decodeEntities = (text: string): string =>
  text
    .replaceAll('&amp;', '&')
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>');

/**
 * Every local `href` of the built site that names a missing file or a missing `#anchor`, as
 * `page: href (why)`. External links, `mailto:` and the like are not followed.
 */
export function brokenLinks(dist: string): { broken: string[]; checked: number } {
  const broken: string[] = [];
  let checked = 0;
  for (const file of htmlFiles(dist)) {
    const page = `/${relative(dist, file)}`;
    const html = readFileSync(file, 'utf8');
    for (const match of html.matchAll(/\shref="([^"]*)"/g)) {
      const href = decodeEntities(match[1]!);
      if (/^[a-z][a-z0-9+.-]*:/i.test(href) || href.startsWith('//')) continue;
      checked++;
      const url = new URL(href, `http://site${page}`);
      const target = url.pathname === page ? file : resolveSitePath(dist, url.pathname);
      if (target === undefined) {
        broken.push(`${page}: ${href} (no such page)`);
        continue;
      }
      const anchor = decodeURIComponent(url.hash.slice(1));
      if (anchor !== '' && target.endsWith('.html') && !idsOf(target).has(anchor)) {
        broken.push(`${page}: ${href} (no element with id "${anchor}")`);
      }
    }
  }
  return { broken, checked };
}
