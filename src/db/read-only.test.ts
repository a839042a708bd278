import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backends, createPostgresDatabase } from '../../test/backends.ts';
import { openDb, type OpenDbOptions } from './index.ts';
import { openPglite, type PgliteDb } from './pglite.ts';

/** A PGlite folder holding an empty database (from the harness's template: initdb takes seconds). */
async function emptyPgliteFolder(): Promise<string> {
  const template = (await backends.find((b) => b.name === 'pglite')!.open({ migrate: false })) as PgliteDb;
  const dump = await template.dump();
  await template.close();
  const dataDir = join(mkdtempSync(join(tmpdir(), 'ventas-ro-')), 'pgdata');
  await (await openPglite(dataDir, { loadDataDir: dump })).close();
  return dataDir;
}

/** Where each backend's database lives for openDb: a fresh PGlite folder, or a throwaway PostgreSQL database. */
const places: Array<[string, () => Promise<{ options: OpenDbOptions; drop(): Promise<void> }>]> = [
  ['pglite', async () => ({ options: { databaseUrl: '', dataDir: await emptyPgliteFolder() }, drop: async () => {} })],
];
const adminUrl = process.env.TEST_DATABASE_URL;
if (adminUrl) {
  places.push([
    'postgres',
    async () => {
      const target = await createPostgresDatabase(adminUrl);
      return { options: { databaseUrl: target.url, poolSize: 3 }, drop: target.drop };
    },
  ]);
}

describe.each(places)('openDb({ readOnly }) [%s]', (_name, place) => {
  it('applies pending migrations first, then the database refuses every write, in and out of transactions', async () => {
    const { options, drop } = await place();
    try {
      // A fresh database: the schema comes in before the session turns read-only.
      const db = await openDb({ ...options, readOnly: true });
      try {
        expect((await db.query(`SELECT count(*)::int AS n FROM schema_migrations`)).rows[0]).toMatchObject({
          n: expect.any(Number),
        });
        await expect(db.query(`INSERT INTO backfills (status, params) VALUES ('running', '{}')`)).rejects.toThrow(
          /read-only transaction/,
        );
        await expect(db.transaction((tx) => tx.query(`UPDATE etl_runs SET status = 'failed'`))).rejects.toThrow(
          /read-only transaction/,
        );
        await expect(db.query(`SELECT nextval('backfills_id_seq')`)).rejects.toThrow(/read-only transaction/);
        // Several connections at once: each one of the pool is read-only, not only the first.
        const results = await Promise.allSettled(Array.from({ length: 3 }, () => db.query(`DELETE FROM ventas`)));
        expect(results.every((r) => r.status === 'rejected')).toBe(true);
      } finally {
        await db.close();
      }
      const writable = await openDb(options);
      try {
        await writable.query(`INSERT INTO backfills (status, params) VALUES ('running', '{}')`);
        expect((await writable.query(`SELECT count(*)::int AS n FROM backfills`)).rows).toEqual([{ n: 1 }]);
      } finally {
        await writable.close();
      }
    } finally {
      await drop();
    }
  });
});
