/**
 * Generates the reference pages of the documentation site from the code, so they cannot
 * drift: the API (TypeDoc over the package's exports), the command line (commander), the
 * app's environment variables, the relay configuration (zod) and the HTTP API (OpenAPI).
 * Run by `npm run docs:build` / `docs:dev`; the output is gitignored. Exits 1 on any TypeDoc
 * warning, so the docs build stays warning-free.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderCli } from './cliReference.js';
import { renderAppConfiguration, renderRelayConfiguration } from './configReference.js';
import { renderHttpApi } from './httpReference.js';
import { generateApi } from './apiReference.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const out = join(root, 'docs', 'reference');

/**
 * Writes a generated page. Its body is wrapped in `v-pre`: the code's texts hold templates
 * such as `{{ns.coll}}`, which Vue would otherwise evaluate.
 */
function write(file: string, text: string): void {
  const [title, ...body] = text.split('\n');
  writeFileSync(
    join(out, file),
    [title, '', '<div v-pre>', '', ...body, '', '</div>', ''].join('\n'),
  );
}

async function main(): Promise<number> {
  mkdirSync(out, { recursive: true });
  rmSync(join(out, 'api'), { recursive: true, force: true });
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    version: string;
    exports: Record<string, unknown>;
  };
  write('cli.md', renderCli());
  write('configuration.md', renderAppConfiguration());
  write('relay-config.md', renderRelayConfiguration(join(root, 'src', 'relay', 'relayConfig.ts')));
  write('http-api.md', await renderHttpApi(pkg.version));
  const warnings = await generateApi(root, join(out, 'api'), pkg.exports);
  if (warnings > 0) {
    process.stderr.write(`generate-reference: TypeDoc reported ${warnings} warning(s)\n`);
    return 1;
  }
  return 0;
}

process.exitCode = await main();
