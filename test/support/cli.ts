import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { describe, inject } from 'vitest';
import type { Io } from '../../src/cli/io.ts';
import { main, type CliHost, type CliLimits } from '../../src/cli/main.ts';
import { migrate, openDb } from '../../src/db/index.ts';
import type { Db } from '../../src/db/types.ts';
import { openPglite, type PgliteDb } from '../../src/db/pglite.ts';
import { createPostgresDatabase, withClose } from '../backends.ts';

/**
 * `ventas` for the tests that start their own process: bin/ventas on the sources compiled by the test run's global
 * setup (test/global-setup.ts), so a test runs the code as it is now, never a dist/ compiled before the last change,
 * and each start spares the CPU tsx would spend transpiling every module again.
 */
export const VENTAS_BIN = join(inject('ventasBuild').pkg, 'bin', 'ventas');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** What a process's stdout and stderr would hold: each write a line (processIo adds the missing newline). */
function bufferedIo(): { io: Io; result(code: number): CliResult } {
  const out: string[] = [];
  const err: string[] = [];
  const line = (text: string) => (text.endsWith('\n') ? text : `${text}\n`);
  return {
    io: { out: (t) => void out.push(line(t)), err: (t) => void err.push(line(t)), isTty: false },
    result: (code) => ({ code, stdout: out.join(''), stderr: err.join('') }),
  };
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
  if (place) return runCli(args, { ...place, limits });
  const { io, result } = bufferedIo();
  return result(await main(['node', 'ventas', ...args], io, limits));
}

/** The variables a user's shell would not pass on: each CLI run says which of these it sets. */
const CLEAN_ENV = { DATABASE_URL: undefined, KLK_BASE_URL: undefined, VENTAS_CONFIG: undefined };

/**
 * A PGlite place's database, kept open in this process across the commands a test runs in it: opening a PGlite
 * folder costs about a second of CPU, and the CLI tests run hundreds of commands. Each command (and place.open())
 * gets a handle opened as openDb would (migrated; read-only for a dry run), and closing the last handle ends what a
 * process's exit ends (DISCARD ALL: session settings, advisory locks such as the liveness lock, temporary tables).
 * Before anything else opens the folder (a process of its own, `ventas db`, `ventas serve`, a look at its files)
 * it is really closed, and the next command opens it again.
 */
class SharedPglite {
  private db: Promise<PgliteDb> | null = null;
  private handles = 0;

  constructor(readonly dataDir: string) {}

  async handle(options: { readOnly?: boolean } = {}): Promise<Db> {
    this.db ??= openPglite(this.dataDir).catch((error: unknown) => {
      this.db = null;
      throw error;
    });
    const db = await this.db;
    this.handles++;
    let closed = false;
    try {
      await migrate(db);
      if (options.readOnly) await db.exec('SET default_transaction_read_only = on');
    } catch (error) {
      this.handles--;
      throw error;
    }
    return withClose(db, async () => {
      if (closed) return;
      closed = true;
      if (options.readOnly) await db.exec('RESET default_transaction_read_only');
      if (--this.handles === 0) await db.exec('DISCARD ALL');
    });
  }

  isOpen(): boolean {
    return this.db !== null;
  }

  /** Really closed, the folder free for another opener; handles still open then are a test's mistake. */
  async close(): Promise<void> {
    const db = this.db;
    this.db = null;
    this.handles = 0;
    if (db) await (await db).close();
  }
}

/** The shared PGlite of each PGlite place, by the place's folder (its cwd). */
const sharedPglites = new Map<string, SharedPglite>();

/** Closes the shared PGlite of any place under `dir` (or holding it), so that something else can open its folder. */
export async function releasePlaceDatabase(dir: string): Promise<void> {
  const at = resolve(dir);
  for (const [cwd, shared] of sharedPglites)
    if (at === cwd || at.startsWith(`${cwd}/`) || cwd.startsWith(`${at}/`)) await shared.close();
}

/** Commands that open the database their own way (not through CliHost), with the folder free. */
const OWN_OPENERS = new Set(['db', 'serve', 'demo']);

let inProcessRun = false;

/**
 * Runs `ventas` as a user would, in `cwd` with `env`, and gives its exit code and output. It runs in this process
 * (the test file's own fork) through bin/ventas's entry point, with the working folder and environment set for the
 * call and restored after: a process start costs a second or more, and the CLI tests make hundreds of runs. A run
 * started while another is still going (two at once) gets its own process, so each sees only its own folder and
 * environment. Tests about processes themselves (signals, kills, servers) use spawnCli.
 */
export async function runCli(
  args: string[],
  options: { cwd: string; env?: Record<string, string | undefined>; timeoutMs?: number; limits?: CliLimits },
): Promise<CliResult> {
  if (inProcessRun && !options.limits) return runCliProcess(args, options);
  if (inProcessRun) throw new Error('runCli with limits runs in this process: one at a time');
  inProcessRun = true;
  const env: Record<string, string | undefined> = { ...CLEAN_ENV, ...options.env };
  const shared = env.DATABASE_URL ? undefined : sharedPglites.get(resolve(options.cwd));
  let host: CliHost = {};
  if (shared && OWN_OPENERS.has(args[0] ?? '')) await shared.close();
  else if (shared) host = { openDatabase: (o) => shared.handle(o) };
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  const setEnv = (values: Record<string, string | undefined>) => {
    for (const [key, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
  const cwd = process.cwd();
  const { io, result } = bufferedIo();
  try {
    setEnv(env);
    process.chdir(options.cwd);
    return result(await main(['node', 'ventas', ...args], io, options.limits, host));
  } catch (error) {
    // bin/ventas would die with the stack on stderr and exit 1.
    io.err(String((error as Error).stack ?? error));
    return result(1);
  } finally {
    process.chdir(cwd);
    setEnv(saved);
    inProcessRun = false;
  }
}

/** runCli against a place's folder and environment (`env` added), its output as `$(…)` gives it: no final newline. */
export async function runInPlace(
  place: Pick<CliPlace, 'cwd' | 'env'>,
  args: string[],
  env: Record<string, string> = {},
): Promise<CliResult> {
  const { code, stdout, stderr } = await runCli(args, { cwd: place.cwd, env: { ...place.env, ...env } });
  return { code, stdout: stdout.replace(/\n$/, ''), stderr: stderr.replace(/\n$/, '') };
}

/**
 * Node's flags for the `ventas` processes the tests start: PGlite's WebAssembly runs as first compiled, without the
 * optimizing tier that would compile it again in the background (most of a short command's CPU; the result is the same).
 */
const NODE_FLAGS = ['--liftoff-only'];

/** Runs `ventas` (VENTAS_BIN) in its own process, as a shell would. */
export async function runCliProcess(
  args: string[],
  options: { cwd: string; env?: Record<string, string | undefined>; timeoutMs?: number },
): Promise<CliResult> {
  await releasePlaceDatabase(options.cwd);
  return new Promise((resolvePromise) => {
    execFile(
      process.execPath,
      [...NODE_FLAGS, VENTAS_BIN, ...args],
      {
        cwd: options.cwd,
        env: { ...process.env, ...CLEAN_ENV, ...options.env },
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

/** Starts `ventas` (VENTAS_BIN) in the background (for kill tests and servers), its place's PGlite folder freed. */
export async function startCli(args: string[], options: { cwd: string; env?: Record<string, string | undefined> }) {
  await releasePlaceDatabase(options.cwd);
  return spawnCli(args, options);
}

/** Starts `ventas` (VENTAS_BIN) in the background where no PGlite place is open in this process (see startCli). */
export function spawnCli(args: string[], options: { cwd: string; env?: Record<string, string | undefined> }) {
  if (sharedPglites.get(resolve(options.cwd))?.isOpen())
    throw new Error(
      `la carpeta ${options.cwd} tiene su PGlite abierto en la prueba: use startCli, que lo cierra antes`,
    );
  return spawn(process.execPath, [...NODE_FLAGS, VENTAS_BIN, ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...CLEAN_ENV, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/**
 * Every file under `dir` with its size and modification time: equal before and after a command proves the command
 * never opened the database kept there (PGlite writes its control file and WAL on every opening).
 */
export async function folderSnapshot(dir: string): Promise<string[]> {
  await releasePlaceDatabase(dir);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => {
      const path = join(entry.parentPath, entry.name);
      const { size, mtimeMs } = statSync(path);
      return `${relative(dir, path)} ${size} ${mtimeMs}`;
    })
    .sort();
}

/** Where a CLI process keeps its data: a temp folder (PGlite under ./.ventas/) or a throwaway PostgreSQL database. */
export interface CliPlace {
  cwd: string;
  env: Record<string, string>;
  /** Opens the same database from the test (after the CLI process has exited, for PGlite). */
  open(): Promise<Db>;
  /** Ends the place: its database closed and removed (dropped on PostgreSQL), and its folder deleted. */
  cleanup(): Promise<void>;
}

export interface CliBackend {
  name: 'pglite' | 'postgres';
  place(): Promise<CliPlace>;
  /** Places holding copies of one database `prepare` filled once, on the first call (see Backend.prepared). */
  preparedPlaces(prepare: (db: Db) => Promise<void>): () => Promise<CliPlace>;
}

/** A migrated PGlite folder, made once per run by global setup: what a first `ventas` run would leave. */
function migratedDataDir(): string {
  return inject('pgliteTemplates').migratedFolder;
}

/** A place whose PGlite folder is a copy of `source`, kept open in this process between commands (SharedPglite). */
function pglitePlaceFrom(source: string): CliPlace {
  const cwd = resolve(mkdtempSync(join(tmpdir(), 'ventas-cli-')));
  const dataDir = join(cwd, '.ventas', 'pgdata');
  cpSync(source, dataDir, { recursive: true });
  const shared = new SharedPglite(dataDir);
  sharedPglites.set(cwd, shared);
  return {
    cwd,
    env: { LOG_DIR: join(cwd, 'logs') },
    open: () => shared.handle(),
    cleanup: async () => {
      sharedPglites.delete(cwd);
      await shared.close();
      rmSync(cwd, { recursive: true, force: true });
    },
  };
}

const pglite: CliBackend = {
  name: 'pglite',
  // The database a first `ventas` run would create and migrate, copied from one made once: seconds less per test.
  place: async () => pglitePlaceFrom(migratedDataDir()),
  preparedPlaces(prepare) {
    let source: Promise<string> | undefined;
    const build = async () => {
      const dir = join(mkdtempSync(join(tmpdir(), 'ventas-prepared-')), 'pgdata');
      cpSync(migratedDataDir(), dir, { recursive: true });
      const db = await openDb({ dataDir: dir });
      try {
        await prepare(db);
      } finally {
        await db.close();
      }
      return dir;
    };
    return async () => pglitePlaceFrom(await (source ??= build()));
  },
};

/** A place on a new database: migrated (what a first `ventas` run would leave, as the PGlite place), or a copy. */
async function postgresPlace(adminUrl: string, copyOf?: string): Promise<CliPlace> {
  const cwd = mkdtempSync(join(tmpdir(), 'ventas-cli-'));
  const target = await createPostgresDatabase(adminUrl, copyOf ? { copyOf } : { migrated: true });
  return {
    cwd,
    env: { DATABASE_URL: target.url, LOG_DIR: join(cwd, 'logs') },
    open: () => openDb({ databaseUrl: target.url }),
    cleanup: async () => {
      await target.drop();
      rmSync(cwd, { recursive: true, force: true });
    },
  };
}

const postgres = (adminUrl: string): CliBackend => ({
  name: 'postgres',
  place: () => postgresPlace(adminUrl),
  preparedPlaces(prepare) {
    // The prepared database stays until the run's teardown drops it with the rest.
    let source: Promise<string> | undefined;
    const build = async () => {
      const target = await createPostgresDatabase(adminUrl, { migrated: true });
      const db = await openDb({ databaseUrl: target.url });
      try {
        await prepare(db);
      } finally {
        await db.close();
      }
      return target.name;
    };
    return async () => postgresPlace(adminUrl, await (source ??= build()));
  },
});

export const cliBackends: CliBackend[] = process.env.TEST_DATABASE_URL
  ? [pglite, postgres(process.env.TEST_DATABASE_URL)]
  : [pglite];

export function describeEachCliBackend(title: string, body: (backend: CliBackend) => void): void {
  describe.each(cliBackends.map((b) => [b.name, b] as const))(`${title} [%s]`, (_name, backend) => body(backend));
}
