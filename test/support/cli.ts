import { execFile, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe } from 'vitest';
import { main, type CliLimits } from '../../src/cli/main.ts';
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
 * Runs `ventas` in this process through the same entry point as bin/ventas, in milliseconds instead of a process
 * start. With a `place`, inside its folder and with its environment (as runCli would), restored afterwards: the
 * command then opens the place's database (a PGlite the test must have closed first).
 */
export async function runInProcess(
  args: string[],
  place?: { cwd: string; env?: Record<string, string | undefined> },
  limits: CliLimits = {},
): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const leave = place ? enter(place.cwd, { DATABASE_URL: undefined, KLK_BASE_URL: undefined, VENTAS_CONFIG: undefined, ...place.env }) : () => {};
  try {
    const code = await main(['node', 'ventas', ...args], { out: (t) => void out.push(t), err: (t) => void err.push(t), isTty: false }, limits);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    leave();
  }
}

/** Moves this process into `cwd` with `env` set (undefined: unset); returns what puts both back. */
function enter(cwd: string, env: Record<string, string | undefined>): () => void {
  const previousCwd = process.cwd();
  const previousEnv = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [key, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
  apply(env);
  process.chdir(cwd);
  return () => {
    process.chdir(previousCwd);
    apply(previousEnv);
  };
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
