import pg from 'pg';

/** Says which databases the run tests against, and fails fast when the real PostgreSQL of CI is not there. */
export default async function setup(): Promise<void> {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) {
    console.log('bases de datos de prueba: pglite (defina TEST_DATABASE_URL para probar también contra PostgreSQL)');
    return;
  }
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
    const safe = new URL(url);
    safe.password = '';
    console.log(`bases de datos de prueba: pglite, postgres ${rows[0]!.server_version} (${safe.host}${safe.pathname})`);
  } catch (error) {
    throw new Error(`TEST_DATABASE_URL no responde (${(error as Error).message}): las pruebas de PostgreSQL no pueden correr`, { cause: error });
  } finally {
    await client.end().catch(() => {});
  }
}
