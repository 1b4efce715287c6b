import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests share one Redis; each uses its own key prefix, but process-level
    // tests spawn children, so keep file parallelism modest on a 2-core machine.
    maxWorkers: 2,
    pool: 'forks',
  },
});
