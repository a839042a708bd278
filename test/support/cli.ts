import { execFile, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { openDb } from '../../src/db/index.ts';
import type { Db } from '../../src/db/types.ts';
import { createPostgresDatabase } from '../backends.ts';

export const VENTAS_BIN = resolve(import.meta.dirname, '../../bin/ventas');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `ventas` in this process through the same entry point as bin/ventas: for what is decided before any
 * database or server is opened (bad input, help), in milliseconds instead of a process start.
 */
export async function runInProcess(args: string[]): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['node', 'ventas', ...args], { out: (t) => void out.push(t), err: (t) => void err.push(t), isTty: false });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

/**
 * Runs `ventas` in this process against a place's database and environment (`env` added), as runCli does in a
 * process of its own: the place's folder is the working directory and its variables are set for the call only.
 * Vitest runs each test file in its own process (pool `forks`), so no other file sees the change.
 */
export async function runInPlace(place: Pick<CliPlace, 'cwd' | 'env'>, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const vars = { DATABASE_URL: undefined, KLK_BASE_URL: undefined, VENTAS_CONFIG: undefined, ...place.env, ...env };
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const cwd = process.cwd();
  const assign = (values: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  assign(vars);
  process.chdir(place.cwd);
  try {
    return await runInProcess(args);
  } finally {
    process.chdir(cwd);
    assign(saved);
  }
}

/** Runs `bin/ventas` as a user would, in its own process. */
export function runCli(args: string[], options: { cwd: string; env?: Record<string, string | undefined>; timeoutMs?: number }): Promise<CliResult> {
  return new Promise((resolvePromise) => {
    execFile(
      process.execPath,
      [VENTAS_BIN, ...args],
      {
        cwd: options.cwd,
        env: { ...process.env, DATABASE_URL: undefined, KLK_BASE_URL: undefined, VENTAS_CONFIG: undefined, ...options.env },
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolvePromise({ code, stdout, stderr });
      },
    );
  });
}

/** Starts `bin/ventas` in the background (for kill tests and servers). */
export function spawnCli(args: string[], options: { cwd: string; env?: Record<string, string | undefined> }) {
  return spawn(process.execPath, [VENTAS_BIN, ...args], {
    cwd: options.cwd,
    env: { ...process.env, DATABASE_URL: undefined, KLK_BASE_URL: undefined, VENTAS_CONFIG: undefined, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Where a CLI process keeps its data: a temp folder (PGlite under ./.ventas/) or a throwaway PostgreSQL database. */
export interface CliPlace {
  cwd: string;
  env: Record<string, string>;
  /** Opens the same database from the test (after the CLI process has exited, for PGlite). */
  open(): Promise<Db>;
  cleanup(): Promise<void>;
}

export interface CliBackend {
  name: 'pglite' | 'postgres';
  place(): Promise<CliPlace>;
}

const pglite: CliBackend = {
  name: 'pglite',
  async place() {
    const cwd = mkdtempSync(join(tmpdir(), 'ventas-cli-'));
    return { cwd, env: { LOG_DIR: join(cwd, 'logs') }, open: () => openDb({ dataDir: join(cwd, '.ventas', 'pgdata') }), cleanup: async () => {} };
  },
};

const postgres = (adminUrl: string): CliBackend => ({
  name: 'postgres',
  async place() {
    const cwd = mkdtempSync(join(tmpdir(), 'ventas-cli-'));
    const target = await createPostgresDatabase(adminUrl);
    return {
      cwd,
      env: { DATABASE_URL: target.url, LOG_DIR: join(cwd, 'logs') },
      open: () => openDb({ databaseUrl: target.url }),
      cleanup: () => target.drop(),
    };
  },
});

export const cliBackends: CliBackend[] = process.env.TEST_DATABASE_URL ? [pglite, postgres(process.env.TEST_DATABASE_URL)] : [pglite];

export function describeEachCliBackend(title: string, body: (backend: CliBackend) => void): void {
  describe.each(cliBackends.map((b) => [b.name, b] as const))(`${title} [%s]`, (_name, backend) => body(backend));
}
