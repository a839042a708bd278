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
    // Files share their worker's modules (PGlite's compiled WebAssembly, the migrated template, the transpiled
    // sources) instead of loading them again per file: minutes less on two cores. Tests restore what they change.
    isolate: false,
  },
});
