import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { describe, inject } from 'vitest';
import { openPglite, type PgliteDb } from '../src/db/pglite.ts';
import { openPostgres } from '../src/db/postgres.ts';
import type { Db, Queryable } from '../src/db/types.ts';
import {
  migratedTemplateName,
  testDatabasePrefix,
  type PgliteTemplateFiles,
  type VentasBuild,
} from './global-setup.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Names this run's throwaway databases, so global teardown can drop any a crashed test left behind. */
    ventasTestRun: string;
    /** The sources compiled at the start of the run, as a package folder, for the tests that start `ventas`. */
    ventasBuild: VentasBuild;
    /** The PGlite templates made at the start of the run. */
    pgliteTemplates: PgliteTemplateFiles;
  }
}

export interface Backend {
  name: 'pglite' | 'postgres';
  /** A fresh database, migrated unless `migrate: false`; its close() also removes it. */
  open(options?: { migrate?: boolean }): Promise<Db>;
  /**
   * Copies of one prepared database: `prepare` runs once, on the first call, on a fresh migrated database (a
   * history loaded through the ETL takes seconds); that call and every one after it get a copy of the result, in a
   * fraction of that time. Each copy's close() removes it.
   */
  prepared(prepare: (db: Db) => Promise<void>): () => Promise<Db>;
}

function runToken(): string {
  try {
    return inject('ventasTestRun') ?? String(process.pid);
  } catch {
    return String(process.pid); // outside a vitest worker
  }
}

async function withAdmin<T>(adminUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * A throwaway database on the TEST_DATABASE_URL server, dropped by drop(): empty, or with `migrated` a copy of the
 * run's migrated template (milliseconds, where migrating takes a fifth of a second). Its commits do not wait for the
 * disk (synchronous_commit off): nothing in it needs to outlive a crash of the server, and the server has less to do.
 */
export async function createPostgresDatabase(
  adminUrl: string,
  options: { migrated?: boolean; copyOf?: string } = {},
): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const run = runToken();
  const name = `${testDatabasePrefix(run)}${randomBytes(4).toString('hex')}`;
  const source = options.copyOf ?? (options.migrated ? migratedTemplateName(run) : undefined);
  await withAdmin(adminUrl, async (admin) => {
    await admin.query(`CREATE DATABASE ${name}${source ? ` TEMPLATE ${source}` : ''}`);
    await admin.query(`ALTER DATABASE ${name} SET synchronous_commit = off`);
  });
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () =>
      withAdmin(adminUrl, (admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => {}),
  };
}

/** The same Db with its own close() (methods forwarded: the Db keeps its own `this`). */
export function withClose(db: Db, close: () => Promise<void>): Db {
  return {
    kind: db.kind,
    query: (sql, params) => db.query(sql, params),
    exec: (sql) => db.exec(sql),
    copyFrom: (table, columns, text) => db.copyFrom(table, columns, text),
    transaction: (fn) => db.transaction(fn),
    keepSession: (options) => db.keepSession(options),
    close,
  };
}

/** The same Db, whose close() also runs `cleanup`. */
function closingAlso(db: Db, cleanup: () => Promise<void>): Db {
  return withClose(db, async () => {
    try {
      await db.close();
    } finally {
      await cleanup();
    }
  });
}

// Starting PGlite runs initdb (seconds); loading a dump takes a fraction of that. Global setup makes the dumps once.
let pgliteTemplates: Promise<{ empty: Blob; migrated: Blob }> | undefined;

/** Dumps of an empty and of a migrated PGlite database, read once per worker. */
export function pgliteTemplate(): Promise<{ empty: Blob; migrated: Blob }> {
  pgliteTemplates ??= (async () => {
    const files = inject('pgliteTemplates');
    const [empty, migrated] = await Promise.all([readFile(files.empty), readFile(files.migrated)]);
    return { empty: new Blob([empty]), migrated: new Blob([migrated]) };
  })();
  return pgliteTemplates;
}

/**
 * Everything a test could change about a database's shape (relations, columns and their defaults, constraints,
 * functions), as one digest: a PGlite whose shape still equals the migrated template's can be emptied and reused.
 */
const SHAPE_SQL = `
  SELECT md5(coalesce(string_agg(item, ',' ORDER BY item), '')) AS shape FROM (
    SELECT format('r %s %s', c.oid::regclass, c.relkind) AS item
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp)'
    UNION ALL
    SELECT format('a %s %s %s %s %s', a.attrelid::regclass, a.attname, a.atttypid::regtype, a.attnotnull, pg_get_expr(d.adbin, d.adrelid))
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp)' AND a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT format('k %s %s', c.conrelid::regclass, pg_get_constraintdef(c.oid))
    FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
    UNION ALL
    SELECT format('f %s', p.oid::regprocedure)
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  ) s`;

async function shapeOf(db: Queryable): Promise<string> {
  return (await db.query<{ shape: string }>(SHAPE_SQL)).rows[0]!.shape;
}

/** Migrated PGlite databases a test has closed, emptied for the next: opening one from a dump costs ~300 ms. */
const idlePglites: PgliteDb[] = [];
let migratedShape: Promise<string> | undefined;

/**
 * Hands a closed test database back: emptied (every table but the migration record, sequences restarted, session
 * state discarded) and kept for the next test, or really closed when the test changed its shape.
 */
async function recycle(db: PgliteDb): Promise<void> {
  try {
    if ((await shapeOf(db)) !== (await migratedShape)) return await db.close();
    const { rows } = await db.query<{ name: string }>(
      `SELECT format('%I.%I', schemaname, tablename) AS name FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'`,
    );
    await db.exec(`TRUNCATE ${rows.map((r) => r.name).join(', ')} RESTART IDENTITY CASCADE`);
    await db.exec('DISCARD ALL');
    idlePglites.push(db);
  } catch {
    await db.close().catch(() => {});
  }
}

/** A test's PGlite, whose close() hands it back for the next test. */
function recycling(db: PgliteDb): Db {
  migratedShape ??= shapeOf(db);
  let closed = false;
  return withClose(db, async () => {
    if (closed) return;
    closed = true;
    await recycle(db);
  });
}

async function openMigratedPglite(): Promise<PgliteDb> {
  return idlePglites.pop() ?? (await openPglite('memory://', { loadDataDir: (await pgliteTemplate()).migrated }));
}

const pglite: Backend = {
  name: 'pglite',
  async open(options = {}) {
    if (options.migrate === false) return openPglite('memory://', { loadDataDir: (await pgliteTemplate()).empty });
    return recycling(await openMigratedPglite());
  },
  prepared(prepare) {
    let dump: Promise<Blob> | undefined;
    const build = async () => {
      const db = await openMigratedPglite();
      try {
        await prepare(db);
        return await db.dump();
      } finally {
        await recycling(db).close();
      }
    };
    return async () => recycling(await openPglite('memory://', { loadDataDir: await (dump ??= build()) }));
  },
};

const postgres = (adminUrl: string): Backend => ({
  name: 'postgres',
  async open(options = {}) {
    const target = await createPostgresDatabase(adminUrl, { migrated: options.migrate !== false });
    let db: Db | undefined;
    try {
      db = await openPostgres(target.url, { poolSize: 5 });
      return closingAlso(db, target.drop);
    } catch (error) {
      await db?.close();
      await target.drop();
      throw error;
    }
  },
  prepared(prepare) {
    // The prepared database stays until the run's teardown drops it with the rest.
    let source: Promise<string> | undefined;
    const build = async () => {
      const target = await createPostgresDatabase(adminUrl, { migrated: true });
      const db = await openPostgres(target.url, { poolSize: 5 });
      try {
        await prepare(db);
      } finally {
        await db.close();
      }
      return target.name;
    };
    return async () => {
      const target = await createPostgresDatabase(adminUrl, { copyOf: await (source ??= build()) });
      return closingAlso(await openPostgres(target.url, { poolSize: 5 }), target.drop);
    };
  },
});

/** PGlite always; the real PostgreSQL too when TEST_DATABASE_URL is set (CI), where an unreachable server fails. */
export const backends: Backend[] = process.env.TEST_DATABASE_URL
  ? [pglite, postgres(process.env.TEST_DATABASE_URL)]
  : [pglite];

/** The same tests on every backend; test names carry the backend, e.g. "runEtl [postgres]". */
export function describeEachBackend(
  title: string,
  body: (open: Backend['open'], backend: Backend['name'], prepared: Backend['prepared']) => void,
): void {
  describe.each(backends.map((b) => [b.name, b] as const))(`${title} [%s]`, (_name, backend) =>
    body(
      (options) => backend.open(options),
      backend.name,
      (prepare) => backend.prepared(prepare),
    ),
  );
}
