import { join, resolve } from 'node:path';
import { env } from '../shared/env.ts';
import { migrate } from './migrate.ts';
import type { Db, Queryable } from './types.ts';

export type { Db, Queryable, QueryResult } from './types.ts';
export { unnest } from './unnest.ts';
export { migrate, listMigrations, type Migration } from './migrate.ts';

export const DEFAULT_DATA_DIR = join('.ventas', 'pgdata');

export interface OpenDbOptions {
  /** PostgreSQL URL; default DATABASE_URL. Empty or absent: the embedded PGlite. */
  databaseUrl?: string;
  /** PGlite folder (default ./.ventas/pgdata), or `memory://`. */
  dataDir?: string;
  /** Apply pending migrations (default true). */
  migrate?: boolean;
  /** pg pool size (default 10). */
  poolSize?: number;
  /**
   * Every transaction read-only (`default_transaction_read_only`): the database itself refuses any write. What a
   * dry run opens, so nothing it does can change a table. Pending migrations are applied first, as on every start.
   */
  readOnly?: boolean;
}

function resolveTarget(options: OpenDbOptions): { url: string } | { dataDir: string } {
  const url = options.databaseUrl ?? env().DATABASE_URL;
  return url ? { url } : { dataDir: options.dataDir ?? DEFAULT_DATA_DIR };
}

/** What openDb would open, for messages: "PostgreSQL postgres://user@host:5432/db" or "PGlite en /abs/path". */
export async function describeDb(options: OpenDbOptions = {}): Promise<string> {
  const target = resolveTarget(options);
  if ('url' in target) {
    const { redactDatabaseUrl } = await import('./postgres.ts');
    return `PostgreSQL ${redactDatabaseUrl(target.url)}`;
  }
  return `PGlite en ${target.dataDir.startsWith('memory://') ? target.dataDir : resolve(target.dataDir)}`;
}

/**
 * PostgreSQL when a URL is given (DATABASE_URL), else the embedded PGlite under ./.ventas/; migrated unless told
 * not. Each driver is loaded only when used. UnreachableError (exit 3) when the database cannot be opened.
 */
export async function openDb(options: OpenDbOptions = {}): Promise<Db> {
  const target = resolveTarget(options);
  const migrating = options.migrate !== false;
  if (!options.readOnly) return open(target, options, migrating);
  if ('url' in target) {
    // Every pooled connection starts read-only: pending migrations go first, through a connection of their own.
    if (migrating) await (await open(target, { poolSize: 1 }, true)).close();
    return open(target, options, false);
  }
  // PGlite is one session: migrated, then read-only for as long as it is open.
  const db = await open(target, options, migrating);
  await db.exec('SET default_transaction_read_only = on');
  return db;
}

async function open(target: ReturnType<typeof resolveTarget>, options: OpenDbOptions, migrating: boolean): Promise<Db> {
  const db =
    'url' in target
      ? await (
          await import('./postgres.ts')
        ).openPostgres(target.url, { poolSize: options.poolSize, readOnly: options.readOnly })
      : await (await import('./pglite.ts')).openPglite(target.dataDir);
  if (migrating) {
    try {
      await migrate(db);
    } catch (error) {
      await db.close().catch(() => {});
      throw error;
    }
  }
  return db;
}

/** Whether the database answers at all (the health check): throws what the driver said when it does not. */
export async function ping(db: Queryable): Promise<void> {
  await db.query('SELECT 1');
}
