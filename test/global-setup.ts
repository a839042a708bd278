import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { migrate } from '../src/db/migrate.ts';
import { openPglite } from '../src/db/pglite.ts';
import { openPostgres, redactDatabaseUrl } from '../src/db/postgres.ts';

/** Prefix of every throwaway database of one test run. */
export function testDatabasePrefix(run: string): string {
  return `ventas_t_${run}_`;
}

/** The run's migrated database that every migrated test database is copied from. */
export function migratedTemplateName(run: string): string {
  return `${testDatabasePrefix(run)}migrated`;
}

const ROOT = resolve(import.meta.dirname, '..');

/** A folder as the package's own: package.json, bin/ and node_modules (no dist/ yet). */
export function packageFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ventas-package-'));
  cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  cpSync(join(ROOT, 'bin'), join(dir, 'bin'), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

/** What bin/build printed and how it ended, building the sources into `pkg`/dist. */
export interface VentasBuild {
  /** The package folder: bin/ventas there runs its dist/, and dist/cli/main.js reads its package.json. */
  pkg: string;
  code: number;
  stdout: string;
  stderr: string;
}

function buildPackage(pkg: string): Promise<VentasBuild> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [join(ROOT, 'bin', 'build'), join(pkg, 'dist')],
      { cwd: tmpdir(), timeout: 120_000 },
      (error, stdout, stderr) =>
        done({ pkg, code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** Builds the sources as they are now; without a build no test that starts `ventas` can run, so the run stops. */
async function build(pkg: string): Promise<VentasBuild> {
  const result = await buildPackage(pkg);
  if (result.code !== 0) {
    throw new Error(
      `bin/build falló (${result.code}); las pruebas que inician ventas no pueden correr:\n${result.stdout}${result.stderr}`,
    );
  }
  return result;
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Says which databases the run tests against (so CI output shows both ran), fails the whole run when the
 * PostgreSQL of TEST_DATABASE_URL is not there, and gives what drops whatever throwaway databases the run left behind.
 */
async function testDatabases(run: string): Promise<(() => Promise<void>) | void> {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) {
    console.log('bases de datos de prueba: pglite (defina TEST_DATABASE_URL para probar también contra PostgreSQL)');
    return;
  }
  let version: string;
  try {
    version = await withClient(
      url,
      async (c) => (await c.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version,
    );
  } catch (error) {
    throw new Error(
      `TEST_DATABASE_URL (${redactDatabaseUrl(url)}) no responde: ${(error as Error).message}; las pruebas de PostgreSQL no pueden correr`,
      { cause: error },
    );
  }
  console.log(`bases de datos de prueba: pglite, postgres ${version} (${redactDatabaseUrl(url)})`);
  // Migrated once here; each test's database is a copy (CREATE DATABASE … TEMPLATE), not a migration of its own.
  const template = migratedTemplateName(run);
  await withClient(url, (c) => c.query(`CREATE DATABASE ${template}`));
  const templateUrl = new URL(url);
  templateUrl.pathname = `/${template}`;
  const db = await openPostgres(templateUrl.toString(), { poolSize: 1 });
  try {
    await migrate(db);
  } finally {
    await db.close();
  }
  return async () => {
    await withClient(url, async (client) => {
      const { rows } = await client.query<{ datname: string }>(
        `SELECT datname FROM pg_database WHERE starts_with(datname, $1)`,
        [testDatabasePrefix(run)],
      );
      for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    });
  };
}

/** Where the run's PGlite templates are: dumps of an empty and of a migrated database, and a migrated folder. */
export interface PgliteTemplateFiles {
  empty: string;
  migrated: string;
  migratedFolder: string;
}

/**
 * The PGlite databases the tests start from, made once per run in `dir`: initdb alone costs seconds of CPU, which
 * every worker paid before.
 */
async function makePgliteTemplates(dir: string): Promise<PgliteTemplateFiles> {
  const files = {
    empty: join(dir, 'empty.tar'),
    migrated: join(dir, 'migrated.tar'),
    migratedFolder: join(dir, 'migrated', 'pgdata'),
  };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const db = await openPglite('memory://');
  try {
    writeFileSync(files.empty, Buffer.from(await (await db.dump()).arrayBuffer()));
    await migrate(db);
    const migrated = await db.dump();
    writeFileSync(files.migrated, Buffer.from(await migrated.arrayBuffer()));
    await (await openPglite(files.migratedFolder, { loadDataDir: migrated })).close();
  } finally {
    await db.close();
  }
  return files;
}

/**
 * Checks the test databases, makes the PGlite templates, and compiles the sources once for the tests that start
 * `ventas` processes (a compiled start costs far less CPU than tsx transpiling every module again); both again before
 * each rerun in watch mode: the tests run the code and the migrations as they are now.
 */
/**
 * Where the run keeps its temporary folders: in memory (/dev/shm) where the machine has one, else the system's temp
 * folder. A CLI test's place is a PGlite folder of 40 MB in a thousand files: copying it to disk cost half a second
 * of CPU, to memory a twentieth of that, and the processes' own writes to it cost less too.
 */
function runTmpParent(): string {
  try {
    accessSync(MEMORY_TMP, constants.W_OK);
    return MEMORY_TMP;
  } catch {
    return tmpdir();
  }
}

const MEMORY_TMP = '/dev/shm';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const run = randomBytes(4).toString('hex');
  project.provide('ventasTestRun', run);
  // Every temporary folder of the run (the tests', the processes' they start, the build's) in one, removed at the end:
  // a CLI test's place alone holds a 40 MB database, and hundreds of them were left behind on each run.
  const previousTmpdir = process.env.TMPDIR;
  const runTmp = mkdtempSync(join(runTmpParent(), 'ventas-test-run-'));
  process.env.TMPDIR = runTmp;
  const removeRunTmp = () => {
    rmSync(runTmp, { recursive: true, force: true });
    if (previousTmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previousTmpdir;
  };
  let dropDatabases: (() => Promise<void>) | void;
  try {
    dropDatabases = await testDatabases(run);
    const pkg = packageFolder();
    const templates = join(runTmp, 'pglite-templates');
    const prepare = async () => {
      const [files, built] = await Promise.all([makePgliteTemplates(templates), build(pkg)]);
      project.provide('pgliteTemplates', files);
      project.provide('ventasBuild', built);
    };
    await prepare();
    project.onTestsRerun(prepare);
  } catch (error) {
    removeRunTmp();
    throw error;
  }
  return async () => {
    removeRunTmp();
    await dropDatabases?.();
  };
}
