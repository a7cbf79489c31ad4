import type { Vitest } from 'vitest/node';
import type { Reporter } from 'vitest/reporters';
import { skipsAllowed } from './skipPolicy.js';

interface TaskLike {
  type: string;
  name: string;
  mode?: string;
  result?: { state?: string };
  tasks?: TaskLike[];
}

/**
 * Prints one plain closing line ("N passed, N failed, N skipped") that any CI can read, and
 * fails the run when a test was skipped: `npm test` starts every real service, so a skip
 * means a suite silently did not run. Only EVENTLOOM_SKIP_SERVICES=1 (never under CI=true)
 * allows skips.
 */
export default class SummaryReporter implements Reporter {
  /** `-t <pattern>` marks every other test skipped; those are chosen, not missing services. */
  private filteredByName = false;

  onInit(vitest: Vitest): void {
    this.filteredByName = vitest.config.testNamePattern !== undefined;
  }

  onFinished(files: TaskLike[] = []): void {
    let passed = 0;
    let failed = 0;
    const skipped: string[] = [];
    const visit = (task: TaskLike, path: string): void => {
      const name = path ? `${path} > ${task.name}` : task.name;
      if (task.type === 'test') {
        if (task.mode === 'skip' || task.mode === 'todo') skipped.push(name);
        else if (task.result?.state === 'pass') passed++;
        else if (task.result?.state === 'fail') failed++;
      }
      for (const child of task.tasks ?? []) visit(child, task.type === 'test' ? path : name);
    };
    for (const file of files) visit(file, '');
    process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped.length} skipped\n`);
    if (!skipsAllowed() && !this.filteredByName && skipped.length > 0) {
      process.stdout.write(
        `${skipped.length} test(s) were skipped, which fails the run (set EVENTLOOM_SKIP_SERVICES=1 to allow skips locally):\n${skipped
          .slice(0, 20)
          .map((s) => `  - ${s}`)
          .join('\n')}\n`,
      );
      process.exitCode = 1;
    }
  }
}
