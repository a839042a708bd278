import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe } from 'vitest';
import { migrate } from '../src/db/migrate.ts';
import { openPglite } from '../src/db/pglite.ts';
import { openPostgres } from '../src/db/postgres.ts';
import type { Db } from '../src/db/types.ts';

export interface Backend {
  name: 'pglite' | 'postgres';
  /** A fresh, migrated database; its close() also removes it. */
  open(options?: { migrate?: boolean }): Promise<Db>;
}

/** A throwaway database on the TEST_DATABASE_URL server, dropped on close. */
export async function createPostgresDatabase(adminUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `ventas_t_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

const pglite: Backend = {
  name: 'pglite',
  async open(options = {}) {
    const db = await openPglite('memory://');
    if (options.migrate !== false) await migrate(db);
    return db;
  },
};

const postgres = (adminUrl: string): Backend => ({
  name: 'postgres',
  async open(options = {}) {
    const target = await createPostgresDatabase(adminUrl);
    const db = await openPostgres(target.url, { poolSize: 5 });
    if (options.migrate !== false) await migrate(db);
    return {
      ...db,
      kind: db.kind,
      query: db.query,
      exec: db.exec,
      transaction: db.transaction,
      async close() {
        await db.close();
        await target.drop();
      },
    };
  },
});

/** PGlite always; the real PostgreSQL too when TEST_DATABASE_URL is set (CI), where an unreachable server fails. */
export const backends: Backend[] = process.env.TEST_DATABASE_URL ? [pglite, postgres(process.env.TEST_DATABASE_URL)] : [pglite];

/** The same tests on every backend; test names carry the backend, e.g. "runEtl [postgres]". */
export function describeEachBackend(title: string, body: (open: Backend['open'], backend: Backend['name']) => void): void {
  describe.each(backends.map((b) => [b.name, b] as const))(`${title} [%s]`, (_name, backend) => body(backend.open, backend.name));
}
