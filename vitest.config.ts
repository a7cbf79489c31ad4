import { defineConfig } from 'vitest/config';

// The tier is in the file name: `*.unit.test.ts` need no service; `*.int.test.ts` and
// `*.e2e.test.ts` run against real services and processes (`npm test` starts them first).
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: integration suites share real services, so keep files from starving each other.
    maxWorkers: 2,
    reporters: ['default', './test/support/summaryReporter.ts'],
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/**/*.unit.test.ts', 'web/test/**/*.unit.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.int.test.ts', 'test/**/*.e2e.test.ts'],
        },
      },
    ],
  },
});
