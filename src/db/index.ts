import { join } from 'node:path';
import { migrate } from './migrate.ts';
import { openPglite } from './pglite.ts';
import { openPostgres } from './postgres.ts';
import type { Db } from './types.ts';

export type { Db, Queryable, QueryResult } from './types.ts';
export { unnest } from './unnest.ts';
export { migrate, listMigrations } from './migrate.ts';

export const DEFAULT_DATA_DIR = join('.ventas', 'pgdata');

/** PostgreSQL when a URL is given (DATABASE_URL), else the embedded PGlite under ./.ventas/; migrated unless told not. */
export async function openDb(options: { databaseUrl?: string; dataDir?: string; migrate?: boolean } = {}): Promise<Db> {
  const url = options.databaseUrl ?? process.env.DATABASE_URL;
  const db = url ? await openPostgres(url) : await openPglite(options.dataDir ?? DEFAULT_DATA_DIR);
  if (options.migrate !== false) {
    try {
      await migrate(db);
    } catch (error) {
      await db.close().catch(() => {});
      throw error;
    }
  }
  return db;
}
