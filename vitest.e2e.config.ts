import { defineConfig } from 'vitest/config';

// End-to-end suite against a real stock Cinder (scripts/cinder-dev). One fork, files one after the
// other: they share one Cinder and one proxy, and some of them kill and restart a proxy process.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    globalSetup: ['test/e2e/global-setup.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    teardownTimeout: 60_000,
    pool: 'forks',
    poolOptions: { forks: { singleFork: true } },
    fileParallelism: false,
    sequence: { concurrent: false },
  },
});
