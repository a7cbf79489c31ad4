#!/usr/bin/env node
// Entry point of the `eventloom` command; the TypeScript sources are compiled to dist/.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write(
    'eventloom: dist/ is missing; run `npm run build` first (npm start does it for you)\n',
  );
  process.exit(1);
}
const { run } = await import(main.href);
process.exitCode = await run(process.argv);
