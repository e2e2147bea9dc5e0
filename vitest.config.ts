import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Tests open real SQLite files, sockets and (later) a browser: generous per-test time, and results
    // written as JSON so .ci/run can print a plain `N passed, N failed` line.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: ['default', ['json', { outputFile: 'test-results/results.json' }]],
  },
});
