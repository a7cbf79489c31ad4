import { ConfigurationError } from '../core/errors.js';

const REFERENCE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}/g;

/**
 * Replaces `${VAR}` in every string of a parsed config with the environment's value.
 * `${VAR:-fallback}` (or `${VAR-fallback}`) uses the fallback when VAR is unset or empty;
 * `$${` stays a literal `${`. A missing variable without a fallback is an error naming the
 * config path, so a secret that was forgotten never turns into an empty string.
 */
export function substituteEnv(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  path = '',
): unknown {
  if (typeof value === 'string') return substituteString(value, env, path);
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, env, `${path}[${i}]`));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        substituteEnv(v, env, path === '' ? k : `${path}.${k}`),
      ]),
    );
  }
  return value;
}

function substituteString(
  text: string,
  env: Readonly<Record<string, string | undefined>>,
  path: string,
): string {
  return text.replace(
    REFERENCE,
    (match, name: string | undefined, fallback: string | undefined) => {
      if (name === undefined) return '${';
      const found = env[name];
      if (found !== undefined && found !== '') return found;
      if (fallback !== undefined) return fallback;
      throw new ConfigurationError(
        `relay config ${path || '(root)'}: environment variable ${name} is not set; export ${name}=… before starting, or give a default with \${${name}:-value}`,
        { details: { path, variable: name } },
      );
    },
  );
}
