import { createServer, type AddressInfo } from 'node:net';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { exitCodeFor, UnreachableError, UsageError } from '../shared/errors.ts';
import { openPostgres, redactDatabaseUrl } from './postgres.ts';

describe('openPostgres', () => {
  it('redacts the password and options from a URL', () => {
    expect(redactDatabaseUrl('postgres://ventas:s3cr%40t@db.example:6432/fluxion?sslmode=require')).toBe(
      'postgres://ventas@db.example:6432/fluxion',
    );
    expect(redactDatabaseUrl('postgresql://u@h/d')).toBe('postgres://u@h:5432/d');
  });

  it('turns a refused connection into UnreachableError naming host:port/db, never the password', async () => {
    const error = await openPostgres('postgres://postgres:secreto@127.0.0.1:1/x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnreachableError);
    expect((error as UnreachableError).dependency).toBe('database');
    expect((error as Error).message).toMatch(/^PostgreSQL en 127\.0\.0\.1:1\/x no está disponible: conexión rechazada/);
    expect((error as Error).message).not.toContain('secreto');
  });

  it('says in Spanish, as unreachable (exit 3), that a server without SSL cannot serve sslmode=require', async () => {
    // A server that answers PostgreSQL's SSL request with "N" (no SSL), as one without ssl = on does.
    const server = createServer((socket) => socket.once('data', () => socket.write('N')));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const error = await openPostgres(`postgres://ventas:secreto@127.0.0.1:${port}/ventas?sslmode=require`).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(UnreachableError);
      expect(exitCodeFor(error)).toBe(3);
      expect((error as Error).message).toBe(
        `PostgreSQL en 127.0.0.1:${port}/ventas no está disponible: el servidor no acepta conexiones SSL y DATABASE_URL las exige (sslmode); ` +
          'quite sslmode o active SSL en el servidor. Revise DATABASE_URL y que el servidor esté en marcha.',
      );
    } finally {
      server.close();
    }
  });

  it('rejects a URL that is not PostgreSQL as bad input', async () => {
    await expect(openPostgres('localhost:5432')).rejects.toBeInstanceOf(UsageError);
  });

  const adminUrl = process.env.TEST_DATABASE_URL;

  it.runIf(adminUrl)(
    'a connection lost while a transaction holds it, between two queries, fails the transaction as unreachable, never the process',
    async () => {
      const db = await openPostgres(adminUrl!, { poolSize: 2 });
      const admin = new pg.Client({ connectionString: adminUrl });
      await admin.connect();
      try {
        const error = await db
          .transaction(async (tx) => {
            const { rows } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
            const pid = rows[0]!.pid;
            // The server ends this connection while the transaction is between statements (as a restart does).
            await admin.query('SELECT pg_terminate_backend($1)', [pid]);
            for (let gone = false; !gone;) {
              gone =
                (
                  await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1', [
                    pid,
                  ])
                ).rows[0]!.n === 0;
            }
            await tx.query('SELECT 1');
          })
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(UnreachableError);
        // The pool goes on with a new connection.
        expect((await db.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      } finally {
        await admin.end();
        await db.close();
      }
    },
  );

  it.runIf(adminUrl)(
    'reports a missing database and a lost connection as unreachable, and a bad statement as is',
    async () => {
      const missing = new URL(adminUrl!);
      missing.pathname = '/ventas_no_existe';
      await expect(openPostgres(missing.toString())).rejects.toThrow(/la base de datos ventas_no_existe no existe/);

      const db = await openPostgres(adminUrl!, { poolSize: 2 });
      try {
        await expect(db.query('SELECT pg_terminate_backend(pg_backend_pid())')).rejects.toBeInstanceOf(
          UnreachableError,
        );
        await expect(db.query('SELECT * FROM no_such_table')).rejects.not.toBeInstanceOf(UnreachableError);
        const { rows } = await db.query<{ style: string }>(`SELECT current_setting('DateStyle') AS style`);
        expect(rows[0]!.style).toMatch(/^ISO/);
      } finally {
        await db.close();
      }
    },
  );
});
