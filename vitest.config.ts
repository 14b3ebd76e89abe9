import { defineConfig } from 'vitest/config';

/**
 * The whole suite: unit, property and integration tests. Test files run in at most two child
 * processes at once (each may start its own redis-server, sshd or Chromium, and the machines this
 * runs on have two cores); the tests inside a file run one after another.
 */
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/fixtures/**', 'node_modules/**'],
    pool: 'forks',
    maxWorkers: 2,
    fileParallelism: true,
    testTimeout: 300_000,
    hookTimeout: 300_000,
    teardownTimeout: 30_000,
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      reporter: ['text-summary'],
    },
  },
});
