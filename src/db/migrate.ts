import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UnreachableError, UsageError } from '../shared/errors.ts';
import type { Db, Queryable } from './types.ts';

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));
/** Serialises migrators: two processes starting at once must not both apply (or both create) anything. */
const MIGRATION_LOCK = 7414201;
/** Columns an existing `ventas` must already have: the key and the day (they cannot be added to existing rows). */
const REQUIRED_COLUMNS = ['numero_factura', 'fecha_venta', 'ubicacion_id'];

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** `NNN_name.sql` files of src/db/migrations, in order. */
export function listMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const migrations = readdirSync(dir)
    .filter((f) => /^\d{3}_[\w-]+\.sql$/.test(f))
    .sort()
    .map((f) => ({
      version: Number(f.slice(0, 3)),
      name: f.replace(/\.sql$/, ''),
      sql: readFileSync(join(dir, f), 'utf8'),
    }));
  migrations.forEach((m, i) => {
    if (i > 0 && migrations[i - 1]!.version === m.version)
      throw new Error(`dos migraciones con el número ${m.version}`);
  });
  return migrations;
}

/**
 * Adopting an existing Fluxion `ventas`: missing columns are added by the migration, but two things cannot be
 * fixed silently. Without the key or the day columns there is nothing to adopt. And the old Fluxion key made
 * `numero_factura` unique across the chain: invoice numbers repeat across stores, so a line of one store would
 * overwrite (and move) another store's line. Either way nothing is changed and the message says what to do.
 */
async function checkAdoption(tx: Queryable): Promise<void> {
  const { rows: columns } = await tx.query<{ name: string }>(
    `SELECT attname AS name FROM pg_attribute
     WHERE attrelid = to_regclass('ventas') AND attnum > 0 AND NOT attisdropped`,
  );
  if (columns.length === 0) return;
  const missing = REQUIRED_COLUMNS.filter((c) => !columns.some((col) => col.name === c));
  if (missing.length > 0) {
    throw new UsageError(
      `la tabla ventas existente no tiene las columnas ${missing.join(', ')}, que identifican cada línea y su día: ` +
        'no se puede adoptar. No se modificó nada; renómbrela o use otra base de datos.',
    );
  }
  // Unique indexes (constraint-backed or bare) whose only key column is numero_factura, partial or not.
  const { rows: keys } = await tx.query<{ fix: string; label: string }>(
    `SELECT CASE WHEN c.conname IS NOT NULL
                 THEN format('ALTER TABLE %s DROP CONSTRAINT %I;', x.indrelid::regclass, c.conname)
                 ELSE format('DROP INDEX %s;', x.indexrelid::regclass) END AS fix,
            coalesce(c.conname, i.relname) AS label
     FROM pg_index x
     JOIN pg_class i ON i.oid = x.indexrelid
     JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0]
     LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = x.indrelid AND c.contype IN ('u', 'p')
     WHERE x.indrelid = to_regclass('ventas') AND x.indisunique AND x.indnkeyatts = 1 AND a.attname = 'numero_factura'
     ORDER BY label`,
  );
  if (keys.length === 0) return;
  throw new UsageError(
    [
      `la tabla ventas existente tiene una clave única solo en numero_factura (${keys.map((k) => k.label).join(', ')}), ` +
        'la clave global del antiguo Fluxion.',
      'Los números de factura se repiten entre tiendas: con esa clave, la línea de una tienda sobrescribiría la de otra.',
      'No se modificó nada. Corríjalo con:',
      ...keys.map((k) => `  ${k.fix}`),
      'y vuelva a ejecutar `ventas db migrate`: la migración crea la clave única (numero_factura, ubicacion_id).',
    ].join('\n'),
  );
}

function explain(error: unknown, migration: Migration): unknown {
  if (error instanceof UnreachableError || error instanceof UsageError) return error;
  const e = error as { code?: string; message?: string; detail?: string };
  if (e.code === '23505') {
    return new UsageError(
      `la migración ${migration.name} no pudo crear una clave única: hay filas repetidas (${e.detail ?? e.message}). ` +
        'No se modificó nada; elimine los duplicados y vuelva a ejecutar `ventas db migrate`.',
      { cause: error },
    );
  }
  return new Error(`la migración ${migration.name} falló: ${e.message ?? String(error)}`, { cause: error });
}

/**
 * Applies the pending migrations in order, each in its own transaction and recorded in schema_migrations.
 * Concurrent migrators (two processes starting at once) queue on an advisory lock: the second finds nothing to do.
 */
export async function migrate(db: Db, migrations: Migration[] = listMigrations()): Promise<{ applied: string[] }> {
  const applied: string[] = [];
  for (const migration of migrations) {
    const done = await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      const { rows } = await tx.query<{ present: boolean }>(
        `SELECT to_regclass('schema_migrations') IS NOT NULL AS present`,
      );
      if (!rows[0]?.present) {
        await tx.exec(
          `CREATE TABLE schema_migrations (
             version integer PRIMARY KEY,
             name text NOT NULL,
             applied_at timestamptz NOT NULL DEFAULT now()
           )`,
        );
      }
      const { rowCount } = await tx.query('SELECT 1 FROM schema_migrations WHERE version = $1', [migration.version]);
      if (rowCount > 0) return false;
      try {
        await checkAdoption(tx);
        await tx.exec(migration.sql);
      } catch (error) {
        throw explain(error, migration);
      }
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
        migration.version,
        migration.name,
      ]);
      return true;
    });
    if (done) applied.push(migration.name);
  }
  return { applied };
}
