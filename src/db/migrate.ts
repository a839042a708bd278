import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../shared/errors.ts';
import type { Db, Queryable } from './types.ts';

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** `NNN_name.sql` files of src/db/migrations, in order. */
export function listMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{3}_[\w-]+\.sql$/.test(f))
    .sort()
    .map((f) => ({ version: Number(f.slice(0, 3)), name: f.replace(/\.sql$/, ''), sql: readFileSync(`${dir}/${f}`, 'utf8') }));
}

/**
 * The old Fluxion key made `numero_factura` unique across the chain: a line of one store then overwrote (and moved)
 * another store's line with the same invoice number. Adopting such a table would corrupt data, so we stop and say
 * how to fix it.
 */
async function checkOldGlobalKey(db: Queryable): Promise<void> {
  const { rows } = await db.query<{ index_name: string; constraint_name: string | null }>(
    `SELECT i.relname AS index_name, c.conname AS constraint_name
     FROM pg_index x
     JOIN pg_class i ON i.oid = x.indexrelid
     LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = x.indrelid
     JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0]
     WHERE x.indrelid = to_regclass('ventas') AND x.indisunique AND x.indnatts = 1 AND a.attname = 'numero_factura'`,
  );
  const old = rows[0];
  if (!old) return;
  const fix = old.constraint_name
    ? `ALTER TABLE ventas DROP CONSTRAINT ${old.constraint_name};`
    : `DROP INDEX ${old.index_name};`;
  throw new UsageError(
    [
      `la tabla ventas existente tiene una clave única solo en numero_factura (${old.constraint_name ?? old.index_name}).`,
      'Los números de factura se repiten entre tiendas: con esa clave, una línea de una tienda sobrescribe la de otra.',
      'No se modificó nada. Corríjalo con:',
      `  ${fix}`,
      'y vuelva a ejecutar: la migración crea la clave única (numero_factura, ubicacion_id).',
    ].join('\n'),
  );
}

/** Applies pending migrations, each in its own transaction; concurrent migrators wait on an advisory lock. */
export async function migrate(db: Db): Promise<{ applied: string[] }> {
  await checkOldGlobalKey(db);
  await db.query(
    `CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
  );
  const applied: string[] = [];
  for (const migration of listMigrations()) {
    const done = await db.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(7414201)`);
      const { rows } = await tx.query(`SELECT 1 FROM schema_migrations WHERE version = $1`, [migration.version]);
      if (rows.length > 0) return false;
      await tx.exec(migration.sql);
      await tx.query(`INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
      return true;
    });
    if (done) applied.push(migration.name);
  }
  return { applied };
}
