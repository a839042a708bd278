import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresDatabase } from '../../test/backends.ts';
import { runCli, runCliProcess } from '../../test/support/cli.ts';
import { openDb } from './index.ts';

// Each run starts a process and, on PGlite, initdb: slow on a busy machine, so these get more time than the default.
const SLOW = { timeout: 240_000 };

/** `ventas db migrate` run as a user runs it: `ventas` in its own process, in its own folder. */
describe('ventas db migrate [pglite]', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'ventas-db-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it('creates the embedded database under ./.ventas/, applies the schema, then finds it up to date', SLOW, async () => {
    const cwd = tempDir();
    const first = await runCli(['db', 'migrate'], { cwd });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`Migraciones aplicadas en PGlite en ${join(cwd, '.ventas', 'pgdata')}`);
    expect(first.stdout).toContain('001_schema');
    expect(existsSync(join(cwd, '.ventas', 'pgdata', 'PG_VERSION'))).toBe(true);
    expect(existsSync(join(cwd, '.ventas', 'pgdata.lock'))).toBe(false);

    const second = await runCli(['db', 'migrate'], { cwd });
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/Esquema al día .*no hay migraciones pendientes/);
  });

  it(
    'exits 2 with the fix when ventas has the old global key, and 3 while another process holds the database',
    SLOW,
    async () => {
      const cwd = tempDir();
      const dataDir = join(cwd, '.ventas', 'pgdata');
      const db = await openDb({ dataDir, migrate: false });
      try {
        await db.exec(
          `CREATE TABLE ventas (numero_factura varchar(100) UNIQUE, fecha_venta timestamp, ubicacion_id varchar(50))`,
        );
        // Another process: this one holds the folder.
        const busy = await runCliProcess(['db', 'migrate'], { cwd });
        expect(busy.code).toBe(3);
        expect(busy.stderr).toMatch(/en uso por otro proceso \(pid \d+\)/);
      } finally {
        await db.close();
      }
      const result = await runCli(['db', 'migrate'], { cwd });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('ALTER TABLE ventas DROP CONSTRAINT ventas_numero_factura_key;');
      expect(result.stdout).toBe('');
    },
  );
});

describe('ventas db migrate [postgres]', () => {
  const adminUrl = process.env.TEST_DATABASE_URL;

  it.runIf(adminUrl)('applies the schema to the DATABASE_URL database, then finds it up to date', async () => {
    const target = await createPostgresDatabase(adminUrl!);
    const cwd = mkdtempSync(join(tmpdir(), 'ventas-db-'));
    try {
      const first = await runCli(['db', 'migrate'], { cwd, env: { DATABASE_URL: target.url } });
      expect(first.stderr).toBe('');
      expect(first.code).toBe(0);
      expect(first.stdout).toMatch(
        /Migraciones aplicadas en PostgreSQL postgres:\/\/\S+@\S+:\d+\/ventas_t_\w+:\n {2}- 001_schema/,
      );
      const second = await runCli(['db', 'migrate'], { cwd, env: { DATABASE_URL: target.url } });
      expect(second.code).toBe(0);
      expect(second.stdout).toMatch(/Esquema al día/);
      expect(existsSync(join(cwd, '.ventas'))).toBe(false);
    } finally {
      await target.drop();
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it.runIf(adminUrl)('exits 3 naming the database when it does not exist', async () => {
    const url = new URL(adminUrl!);
    url.pathname = '/ventas_no_existe';
    const result = await runCli(['db', 'migrate'], { cwd: tmpdir(), env: { DATABASE_URL: url.toString() } });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/ventas_no_existe no existe/);
  });

  it('exits 3 when the server cannot be reached, naming host:port/db without the password', async () => {
    const result = await runCli(['db', 'migrate'], {
      cwd: tmpdir(),
      env: { DATABASE_URL: 'postgres://postgres:secreto@127.0.0.1:1/x' },
    });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('127.0.0.1:1/x');
    expect(result.stderr).toMatch(/conexión rechazada/);
    expect(result.stderr).not.toContain('secreto');
  });

  it('exits 2 when DATABASE_URL is not a PostgreSQL URL', async () => {
    const result = await runCli(['db', 'migrate'], {
      cwd: tmpdir(),
      env: { DATABASE_URL: 'mysql://root:secreto@db/ventas' },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/DATABASE_URL/);
    expect(result.stderr).not.toContain('secreto');
  });
});
