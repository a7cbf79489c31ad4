import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { ConfigurationError } from '../core/errors.js';
import { parseRelayConfig } from './parseRelayConfig.js';
import type { RelayConfig } from './relayConfig.js';
import { substituteEnv, type SubstituteEnvOptions } from './relayEnv.js';

/**
 * Reads a relay config file: YAML (`.yaml`/`.yml`), JSON, or an ES module (`.js`, `.mjs`,
 * `.ts`, `.mts` — `.ts` needs a TypeScript loader such as `node --import tsx`) whose default
 * export is the config or a (possibly async) function returning it. `${VAR}` is substituted
 * in YAML and JSON files from `env` (none by default: the CLI passes `process.env`); modules
 * read their environment themselves.
 *
 * @example
 * const config = await loadRelayConfig('relay.yaml', process.env);
 */
export async function loadRelayConfig(
  file: string,
  env: Readonly<Record<string, string | undefined>> = {},
  options: SubstituteEnvOptions = {},
): Promise<RelayConfig> {
  const path = resolve(file);
  const ext = extname(path).toLowerCase();
  const defaultName = basename(path, extname(path)).replace(/[^A-Za-z0-9_.-]/g, '_');
  const baseDir = dirname(path);
  let raw: unknown;
  if (ext === '.yaml' || ext === '.yml' || ext === '.json') {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw new ConfigurationError(
        `relay config ${path} cannot be read (${(error as Error).message}); pass an existing file to --config`,
        { cause: error },
      );
    }
    try {
      raw = ext === '.json' ? JSON.parse(text) : parseYaml(text, { prettyErrors: true });
    } catch (error) {
      const where =
        error instanceof YAMLParseError && error.linePos
          ? ` at line ${error.linePos[0].line}, column ${error.linePos[0].col}`
          : '';
      throw new ConfigurationError(
        `relay config ${path} is not valid ${ext === '.json' ? 'JSON' : 'YAML'}${where}: ${(error as Error).message.split('\n')[0] ?? ''}`,
        { cause: error },
      );
    }
    raw = substituteEnv(raw, env, '', options);
  } else if (['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts'].includes(ext)) {
    let mod: { default?: unknown };
    try {
      mod = (await import(pathToFileURL(path).href)) as { default?: unknown };
    } catch (error) {
      const hint = ext.endsWith('ts')
        ? '; a TypeScript config needs a loader: run `node --import tsx …`, or compile it to .js'
        : '';
      throw new ConfigurationError(
        `relay config module ${path} failed to load: ${(error as Error).message}${hint}`,
        { cause: error },
      );
    }
    raw = typeof mod.default === 'function' ? await (mod.default as () => unknown)() : mod.default;
    if (raw === undefined) {
      throw new ConfigurationError(
        `relay config module ${path} has no default export; write \`export default { source: …, pipeline: … }\``,
      );
    }
  } else {
    throw new ConfigurationError(
      `relay config ${path}: unknown file type '${ext || '(none)'}'; use .yaml, .yml, .json, .js, .mjs or .ts`,
    );
  }
  return parseRelayConfig(raw, { defaultName, baseDir });
}
