import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'bench/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Three files at a time on two cores: many tests wait (on the simulator's latency, child processes, PostgreSQL),
    // and a third file fills that time; every wait in the tests is on an event or with a generous limit.
    maxWorkers: 3,
    pool: 'forks',
    // Files share their worker's modules (PGlite's compiled WebAssembly, the migrated template, the transpiled
    // sources) instead of loading them again per file: minutes less on two cores. Tests restore what they change.
    isolate: false,
  },
});
