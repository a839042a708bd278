import { afterEach, describe, expect, it } from 'vitest';
import { describeEachBackend } from '../../test/backends.ts';
import { UsageError } from '../shared/errors.ts';
import { listMigrations, migrate } from './migrate.ts';
import type { Db } from './types.ts';

/** Every migration, in order: what a new database gets. */
const ALL = listMigrations().map((m) => m.name);

const FLUXION_MINIMAL = `
  CREATE TABLE ventas (
    id bigserial PRIMARY KEY,
    numero_factura varchar(100) NOT NULL,
    fecha_venta timestamp NOT NULL,
    ubicacion_id varchar(50) NOT NULL,
    producto_id varchar(50),
    cantidad_vendida numeric(18,4),
    venta_total numeric(18,4)
  );
  INSERT INTO ventas (numero_factura, fecha_venta, ubicacion_id, producto_id, cantidad_vendida, venta_total) VALUES
    ('F100_L1', '2026-01-10 09:15:00', 'tienda_01', 'P1', 2, 10.5),
    ('F100_L1', '2026-01-10 11:00:00', 'tienda_02', 'P2', 1, 3.25);`;

async function tables(db: Db): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1`,
  );
  return rows.map((r) => r.name);
}

async function columns(db: Db, table: string): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT column_name AS name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY 1`,
    [table],
  );
  return rows.map((r) => r.name);
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof Error)) throw new Error('se esperaba un error');
  return error;
}

describe('listMigrations', () => {
  it('reads the numbered files in order', () => {
    const migrations = listMigrations();
    expect(migrations[0]).toMatchObject({ version: 1, name: '001_schema' });
    expect(migrations.map((m) => m.version)).toEqual([...migrations.map((m) => m.version)].sort((a, b) => a - b));
  });
});

describeEachBackend('migrate', (open) => {
  let db: Db | undefined;
  afterEach(async () => {
    await db?.close();
    db = undefined;
  });

  it('applies every migration once on an empty database and nothing on the second run', async () => {
    db = await open({ migrate: false });
    expect(await migrate(db)).toEqual({ applied: ALL });
    expect(await tables(db)).toEqual(
      expect.arrayContaining([
        'ventas',
        'store_days',
        'etl_runs',
        'klk_requests',
        'quarantine',
        'store_leases',
        'backfills',
        'backfill_chunks',
        'daemon_ticks',
        'daemon_leader',
        'incidents',
        'alert_deliveries',
        'schema_migrations',
      ]),
    );
    expect(await migrate(db)).toEqual({ applied: [] });
    const { rows } = await db.query('SELECT version, name, applied_at FROM schema_migrations');
    expect(rows).toEqual(
      listMigrations().map((m) => ({ version: m.version, name: m.name, applied_at: expect.any(Date) })),
    );
  });

  it('finds a database opened migrated up to date', async () => {
    db = await open();
    expect(await migrate(db)).toEqual({ applied: [] });
  });

  it('applies each migration exactly once when two migrators run at the same time', async () => {
    db = await open({ migrate: false });
    const [a, b] = await Promise.all([migrate(db), migrate(db)]);
    // Between them they apply each one once (which migrator applies which one depends on who takes the lock first).
    expect([...a.applied, ...b.applied].sort()).toEqual(ALL);
    expect((await db.query('SELECT count(*)::int AS n FROM schema_migrations')).rows).toEqual([{ n: ALL.length }]);
  });

  it('adopts an existing Fluxion ventas missing columns, keeping its rows, with the per-store key', async () => {
    db = await open({ migrate: false });
    await db.exec(FLUXION_MINIMAL);
    expect(await migrate(db)).toEqual({ applied: ALL });
    expect(await columns(db, 'ventas')).toEqual(
      expect.arrayContaining(['almacen_nombre', 'peso_calculado', 'margen_bruto_pct', 'fecha_creacion', 'costo_total']),
    );
    const { rows } = await db.query(
      'SELECT numero_factura, ubicacion_id, fecha_venta, cantidad_vendida, venta_total, margen_bruto_pct FROM ventas ORDER BY ubicacion_id',
    );
    expect(rows).toEqual([
      {
        numero_factura: 'F100_L1',
        ubicacion_id: 'tienda_01',
        fecha_venta: '2026-01-10 09:15:00',
        cantidad_vendida: '2.0000',
        venta_total: '10.5000',
        margen_bruto_pct: null,
      },
      {
        numero_factura: 'F100_L1',
        ubicacion_id: 'tienda_02',
        fecha_venta: '2026-01-10 11:00:00',
        cantidad_vendida: '1.0000',
        venta_total: '3.2500',
        margen_bruto_pct: null,
      },
    ]);
    const upsert = `INSERT INTO ventas (numero_factura, fecha_venta, ubicacion_id, venta_total) VALUES ($1, $2, $3, $4)
                    ON CONFLICT (numero_factura, ubicacion_id) DO UPDATE SET venta_total = EXCLUDED.venta_total`;
    await db.query(upsert, ['F100_L1', '2026-01-10 09:15:00', 'tienda_01', '11']);
    await db.query(upsert, ['F100_L1', '2026-01-10 12:00:00', 'tienda_03', '1']);
    expect((await db.query('SELECT ubicacion_id, venta_total FROM ventas ORDER BY ubicacion_id')).rows).toEqual([
      { ubicacion_id: 'tienda_01', venta_total: '11.0000' },
      { ubicacion_id: 'tienda_02', venta_total: '3.2500' },
      { ubicacion_id: 'tienda_03', venta_total: '1.0000' },
    ]);
  });

  it('keeps an adopted per-store key under its own name instead of building a second copy', async () => {
    db = await open({ migrate: false });
    await db.exec(`CREATE TABLE ventas (numero_factura varchar(100) NOT NULL, fecha_venta timestamp NOT NULL, ubicacion_id varchar(50) NOT NULL,
                     CONSTRAINT fluxion_ventas_key UNIQUE (ubicacion_id, numero_factura))`);
    await migrate(db);
    const { rows } = await db.query<{ name: string }>(
      `SELECT i.relname AS name FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = 'ventas'::regclass AND x.indisunique ORDER BY 1`,
    );
    expect(rows.map((r) => r.name)).toEqual(['fluxion_ventas_key']);
    // The loader updates existing rows by id: a table adopted without one gets it.
    expect(await columns(db, 'ventas')).toContain('id');
  });

  it('stops on the old global unique constraint on numero_factura, changes nothing and says how to fix it', async () => {
    db = await open({ migrate: false });
    await db.exec(`CREATE TABLE ventas (
      id bigserial PRIMARY KEY, numero_factura varchar(100) NOT NULL UNIQUE, fecha_venta timestamp NOT NULL, ubicacion_id varchar(50) NOT NULL)`);
    const before = await columns(db, 'ventas');
    const error = await rejection(migrate(db));
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toContain('ALTER TABLE ventas DROP CONSTRAINT ventas_numero_factura_key;');
    expect(error.message).toMatch(/se repiten entre tiendas/);
    expect(error.message).toMatch(/sobrescribiría/);
    expect(await tables(db)).toEqual(['ventas']);
    expect(await columns(db, 'ventas')).toEqual(before);

    await db.exec('ALTER TABLE ventas DROP CONSTRAINT ventas_numero_factura_key;');
    expect(await migrate(db)).toEqual({ applied: ALL });
  });

  it('names a bare unique index on numero_factura with DROP INDEX', async () => {
    db = await open({ migrate: false });
    await db.exec(`CREATE TABLE ventas (numero_factura varchar(100) NOT NULL, fecha_venta timestamp NOT NULL, ubicacion_id varchar(50) NOT NULL);
                   CREATE UNIQUE INDEX "Fluxion factura" ON ventas (numero_factura) INCLUDE (ubicacion_id)`);
    const error = await rejection(migrate(db));
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toContain('DROP INDEX "Fluxion factura";');
    expect(await tables(db)).toEqual(['ventas']);
  });

  it('refuses to adopt a ventas without its key or day columns', async () => {
    db = await open({ migrate: false });
    await db.exec('CREATE TABLE ventas (numero_factura text, total numeric)');
    const error = await rejection(migrate(db));
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toMatch(/fecha_venta, ubicacion_id/);
    expect(await tables(db)).toEqual(['ventas']);
  });

  it('explains repeated lines that block the per-store key, changing nothing', async () => {
    db = await open({ migrate: false });
    await db.exec(FLUXION_MINIMAL);
    await db.exec(
      `INSERT INTO ventas (numero_factura, fecha_venta, ubicacion_id) VALUES ('F100_L1', '2026-01-10 09:15:00', 'tienda_01')`,
    );
    const error = await rejection(migrate(db));
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toMatch(/filas repetidas/);
    expect(await tables(db)).toEqual(['ventas']);
    expect(await columns(db, 'ventas')).not.toContain('margen_bruto_pct');
  });
});
