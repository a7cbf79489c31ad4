import { ConfigurationError } from '../core/errors.js';

const REFERENCE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}/g;

/** How {@link loadRelayConfig} substitutes `${VAR}` in a config. */
export interface SubstituteEnvOptions {
  /**
   * `optional`: a missing variable inside a pipeline stays written as it is (for commands
   * that run no step, such as `dlq list`, so they need no webhook secrets). Default `required`.
   */
  pipelineVariables?: 'required' | 'optional';
}

const IN_PIPELINE = /(^|\.)pipeline(\[|\.|$)/;

/**
 * Replaces `${VAR}` in every string of a parsed config — keys included — with the
 * environment's value. `${VAR:-fallback}` (or `${VAR-fallback}`) uses the fallback when VAR
 * is unset or empty; `$${` stays a literal `${`. A missing variable without a fallback is an
 * error naming the config path, so a secret that was forgotten never turns into an empty
 * string.
 */
export function substituteEnv(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  path = '',
  options: SubstituteEnvOptions = {},
): unknown {
  if (typeof value === 'string') return substituteString(value, env, path, options);
  if (Array.isArray(value))
    return value.map((v, i) => substituteEnv(v, env, `${path}[${i}]`, options));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([rawKey, v]) => {
        const key = substituteString(rawKey, env, path || '(root)', options);
        return [key, substituteEnv(v, env, path === '' ? key : `${path}.${key}`, options)];
      }),
    );
  }
  return value;
}

function substituteString(
  text: string,
  env: Readonly<Record<string, string | undefined>>,
  path: string,
  options: SubstituteEnvOptions,
): string {
  return text.replace(
    REFERENCE,
    (match, name: string | undefined, fallback: string | undefined) => {
      if (name === undefined) return '${';
      const found = env[name];
      if (found !== undefined && found !== '') return found;
      if (fallback !== undefined) return fallback;
      if (options.pipelineVariables === 'optional' && IN_PIPELINE.test(path)) return match;
      throw new ConfigurationError(
        `relay config ${path || '(root)'}: environment variable ${name} is not set; export ${name}=… before starting, or give a default with \${${name}:-value}`,
        { details: { path, variable: name } },
      );
    },
  );
}
