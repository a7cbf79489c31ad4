// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The layers of src/, lowest first: what each folder may import besides itself. An import of
 * another folder of src/ that is not listed is an error, and so is a driver package that is
 * not listed under `packages` (the core imports no package but pure API packages listed under
 * its `packages`, and no node:*: `pure: true`). Folders
 * at the process edges (`edge: true`) are the only ones that read `process.env`; library
 * code takes its settings as options. test/structure/layers.unit.test.ts checks that every
 * folder of src/ is in this table and that the rules fire.
 *
 * | folder   | may import                                         | drivers                        |
 * |----------|----------------------------------------------------|--------------------------------|
 * | core     | –                                                  | @opentelemetry/api only (no node:*) |
 * | node     | core                                               | pino, prom-client              |
 * | sqlite   | core, node                                         | better-sqlite3                 |
 * | mongodb  | core, node                                         | mongodb                        |
 * | postgres | core, node                                         | pg                             |
 * | kafka    | core, node                                         | @platformatic/kafka            |
 * | app      | core, node                                         | – (argon2, node:crypto)        |
 * | app/services | core, node, app                                | – (the shop's services)        |
 * | relay    | core, node, sqlite, mongodb, kafka                 | mongodb, better-sqlite3, kafka |
 * | server   | core, node, app, app/services, sqlite, mongodb, postgres | hono, the stores' drivers      |
 * | bench    | everything below cli                               | all                            |
 * | cli      | everything                                         | all                            |
 */
export const LAYERS = {
  // `@opentelemetry/api` is a pure API (a no-op until an SDK is registered at a process edge).
  core: { imports: [], packages: ['@opentelemetry/api'], pure: true },
  node: { imports: ['core'], packages: ['pino', 'prom-client'] },
  sqlite: { imports: ['core', 'node'], packages: ['better-sqlite3'] },
  mongodb: { imports: ['core', 'node'], packages: ['mongodb'] },
  postgres: { imports: ['core', 'node'], packages: ['pg'] },
  kafka: { imports: ['core', 'node'], packages: ['@platformatic/kafka'] },
  app: { imports: ['core', 'node'], packages: [] },
  // A sub-layer: the shop's services sit on the app's modules and are started by the server
  // (in-process) or the CLI (`eventloom worker`); the app's modules never import them.
  'app/services': { imports: ['core', 'node', 'app'], packages: [] },
  relay: {
    imports: ['core', 'node', 'sqlite', 'mongodb', 'kafka'],
    packages: ['mongodb', 'better-sqlite3', '@platformatic/kafka'],
  },
  server: {
    imports: ['core', 'node', 'app', 'app/services', 'sqlite', 'mongodb', 'postgres'],
    packages: ['hono', '@hono/node-server', 'mongodb', 'better-sqlite3', 'pg'],
  },
  // The services as their own processes over Kafka (`eventloom worker`), and the app's side
  // of their commands: process wiring above the server, started by the CLI.
  workers: {
    imports: ['core', 'node', 'sqlite', 'mongodb', 'kafka', 'app', 'app/services', 'server'],
    packages: [],
  },
  bench: {
    imports: [
      'core',
      'node',
      'sqlite',
      'mongodb',
      'postgres',
      'kafka',
      'app',
      'app/services',
      'relay',
      'server',
    ],
    packages: 'all',
    edge: true,
  },
  cli: {
    imports: [
      'core',
      'node',
      'sqlite',
      'mongodb',
      'postgres',
      'kafka',
      'app',
      'app/services',
      'relay',
      'server',
      'workers',
      'bench',
    ],
    packages: 'all',
    edge: true,
  },
};

/** Packages that tie a folder to a driver, a framework or the process edge. */
const DRIVERS = [
  'better-sqlite3',
  'mongodb',
  'pg',
  '@platformatic/kafka',
  'hono',
  '@hono/node-server',
  'commander',
  'pino',
  'prom-client',
  'autocannon',
];

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function layerConfigs() {
  const folders = Object.keys(LAYERS);
  return Object.entries(LAYERS).map(([folder, layer]) => {
    const forbidden = folders.filter((f) => f !== folder && !layer.imports.includes(f));
    const patterns = [];
    const message = `src/${folder} may import only ${layer.imports.join(', ') || 'itself'} (the layer table in eslint.config.js): move the code to the lowest layer both need, or pass it in as an option.`;
    if (forbidden.length > 0) {
      patterns.push({ regex: `^(\\.\\./)+(${forbidden.join('|')})(/|$)`, message });
    }
    // A sub-layer above this folder (app/services above app) is reached by a `./` import.
    const above = forbidden.filter((f) => f.startsWith(`${folder}/`));
    if (above.length > 0) {
      patterns.push({
        regex: `^\\./(${above.map((f) => f.slice(folder.length + 1)).join('|')})(/|$)`,
        message,
      });
    }
    if (layer.pure) {
      const allowed = layer.packages === 'all' || layer.packages === 'none' ? [] : layer.packages;
      const except = allowed.length > 0 ? `(?!(${allowed.map(escape).join('|')})(/|$))` : '';
      patterns.push({
        regex: `^${except}[^.]`,
        message: `src/${folder} is pure: no node:* and no package imports but ${allowed.join(', ') || 'none'}; adapters depend on the core.`,
      });
    } else if (layer.packages !== 'all') {
      const drivers = DRIVERS.filter((d) => !layer.packages.includes(d));
      patterns.push({
        regex: `^(${drivers.map(escape).join('|')})(/|$)`,
        message: `src/${folder} may not use this driver (the layer table in eslint.config.js); it belongs in its adapter folder.`,
      });
    }
    return {
      files: [`src/${folder}/**/*.ts`],
      rules: {
        'no-restricted-imports': ['error', { patterns }],
        // The same table for `await import(…)`, which no-restricted-imports does not see.
        'no-restricted-syntax': [
          'error',
          ...patterns.map(({ regex, message }) => ({
            // esquery ends a regex at the first `/`, escaped or not.
            selector: `ImportExpression[source.value=/${regex.replaceAll('/', '\\x2F')}/]`,
            message,
          })),
        ],
        ...(layer.edge
          ? {}
          : {
              'no-console': 'error',
              'no-restricted-properties': [
                'error',
                {
                  object: 'process',
                  property: 'env',
                  message:
                    'library code takes settings as options; only the process edges (src/cli, src/bench) read process.env.',
                },
                {
                  object: 'process',
                  property: 'emitWarning',
                  message: 'library code logs through the Logger port (src/core/logger.ts).',
                },
              ],
            }),
      },
    };
  });
}

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'data/**',
      '.services/**',
      'test-output/**',
      'web/dist/**',
      'docs/.vitepress/dist/**',
      'docs/.vitepress/cache/**',
      'docs/.vitepress/.temp/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/require-await': 'off',
    },
  },
  ...layerConfigs(),
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: 'readonly', URL: 'readonly', console: 'readonly' },
    },
  },
  {
    // The examples are projects of their own that import `eventloom` as an installed package,
    // which only resolves once installed; test/examples typechecks them (strict tsc) against
    // the built package instead.
    files: ['examples/**/*.ts'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
);
