import type { Reporter } from 'vitest/reporters';

interface TaskLike {
  type: string;
  name: string;
  mode?: string;
  result?: { state?: string };
  tasks?: TaskLike[];
}

/**
 * Prints one plain closing line ("N passed, N failed, N skipped") that any CI can read, and
 * fails the run under CI=true when a suite was skipped: in CI every real service is started,
 * so a skip means a suite silently did not run.
 */
export default class SummaryReporter implements Reporter {
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
    if (process.env.CI === 'true' && skipped.length > 0) {
      process.stdout.write(
        `CI=true: ${skipped.length} test(s) were skipped, which CI treats as a failure:\n${skipped
          .slice(0, 20)
          .map((s) => `  - ${s}`)
          .join('\n')}\n`,
      );
      process.exitCode = 1;
    }
  }
}
