import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { migrate } from '../src/db/migrate.ts';
import { openPostgres, redactDatabaseUrl } from '../src/db/postgres.ts';

/** Prefix of every throwaway database of one test run. */
export function testDatabasePrefix(run: string): string {
  return `ventas_t_${run}_`;
}

/** The run's migrated database that every migrated test database is copied from. */
export function migratedTemplateName(run: string): string {
  return `${testDatabasePrefix(run)}migrated`;
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
 * PostgreSQL of TEST_DATABASE_URL is not there, and drops whatever throwaway databases the run left behind.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | void> {
  const run = randomBytes(4).toString('hex');
  project.provide('ventasTestRun', run);
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
