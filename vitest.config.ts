import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: two files at a time keeps PGlite instances and child processes from starving each other.
    maxWorkers: 2,
    pool: 'forks',
  },
});
