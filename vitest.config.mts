import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // Temporal's native worker and servers live best in their own processes; 2 cores → 2 files at a time.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Every error answer must be in its operation's catalogue (api/error-catalogue.ts).
    env: { CS_STRICT_ERROR_CODES: '1' },
    reporters: ['default'],
  },
});
