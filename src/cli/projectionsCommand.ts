import type { Command } from 'commander';
import { ValidationError } from '../core/errors.js';
import type { Projection } from '../core/index.js';
import type { Logger } from '../core/logger.js';

/** Loaded on use: the app and its drivers stay out of every other command's start-up. */
async function load() {
  const [app, core, config, run] = await Promise.all([
    import('../app/index.js'),
    import('../core/index.js'),
    import('../server/appConfig.js'),
    import('../server/runApp.js'),
  ]);
  const projections: readonly Projection[] = [
    app.usersProjection,
    app.tweetsProjection,
    app.shopProjection,
  ];
  return {
    projections,
    rebuildProjection: core.rebuildProjection,
    loadAppConfig: config.loadAppConfig,
    openStores: run.openStores,
  };
}

/**
 * `eventloom projections list|rebuild [names...]`: the reference app's read models, rebuilt
 * from the start of the log with progress, on the store `eventloom start` would use (same
 * env: EVENTLOOM_DATA, EVENTLOOM_STORE, READ_MODELS). Stop the app first: a rebuild empties
 * the read models while it runs.
 */
export function registerProjectionsCommand(program: Command, log: () => Logger): void {
  const projections = program
    .command('projections')
    .description("the reference app's read models (projections)");

  projections
    .command('list')
    .description('print each projection and its checkpoint')
    .option('--data <dir>', 'data folder for the embedded store')
    .action(async (opts: { data?: string }) => {
      const { projections: PROJECTIONS, loadAppConfig, openStores } = await load();
      const config = loadAppConfig(process.env, opts);
      const opened = await openStores(config, log());
      try {
        const head = await opened.store.headPosition();
        for (const p of PROJECTIONS) {
          const position = (await opened.readModels.loadCheckpoint(p.name)) ?? 0;
          process.stdout.write(
            `${p.name}\tposition ${position}\thead ${head}\tlag ${head - position}\n`,
          );
        }
      } finally {
        for (const close of opened.close.reverse()) await close();
      }
    });

  projections
    .command('rebuild [names...]')
    .description('empty and replay projections from the start of the log (all when no names)')
    .option('--data <dir>', 'data folder for the embedded store')
    .action(async (names: string[], opts: { data?: string }) => {
      const {
        projections: PROJECTIONS,
        rebuildProjection,
        loadAppConfig,
        openStores,
      } = await load();
      const unknown = names.filter((n) => !PROJECTIONS.some((p) => p.name === n));
      if (unknown.length > 0) {
        throw new ValidationError(
          'projections',
          `unknown projection ${unknown.join(', ')}; known: ${PROJECTIONS.map((p) => p.name).join(', ')}`,
        );
      }
      const chosen =
        names.length === 0 ? PROJECTIONS : PROJECTIONS.filter((p) => names.includes(p.name));
      const config = loadAppConfig(process.env, opts);
      const logger = log();
      const opened = await openStores(config, logger);
      try {
        for (const projection of chosen) {
          const result = await rebuildProjection({
            store: opened.store,
            projection,
            target: opened.readModels,
            onProgress: (p) =>
              logger.info({ ...p, percent: Math.round(p.ratio * 100) }, 'rebuilding'),
          });
          process.stdout.write(
            `${projection.name}: rebuilt from ${result.processed} events up to position ${result.position}\n`,
          );
        }
      } finally {
        for (const close of opened.close.reverse()) await close();
      }
    });
}
