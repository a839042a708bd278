import type { Queryable } from '../../src/db/types.ts';

/**
 * A digest of every table in the database (ours in `public`, the job queue's in its own schema, any other user
 * schema) and of every sequence's value: equal before and after a command proves it wrote nothing, byte for byte.
 */
export async function fingerprint(db: Queryable): Promise<Record<string, string>> {
  const userSchema = `schemaname NOT IN ('pg_catalog', 'information_schema') AND schemaname NOT LIKE 'pg\\_%'`;
  const { rows: tables } = await db.query<{ name: string }>(
    `SELECT format('%I.%I', schemaname, tablename) AS name FROM pg_tables WHERE ${userSchema} ORDER BY 1`,
  );
  const digest: Record<string, string> = {};
  for (const { name } of tables) {
    // Each row in its text form, sorted, joined: any changed value, added or removed row changes the digest.
    const { rows } = await db.query<{ n: number; md5: string }>(
      `SELECT count(*)::int AS n, md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) AS md5 FROM ${name} t`,
    );
    digest[name] = `${rows[0]!.n} filas ${rows[0]!.md5}`;
  }
  const { rows: sequences } = await db.query<{ name: string; value: string | null }>(
    `SELECT format('%I.%I', schemaname, sequencename) AS name, last_value::text AS value FROM pg_sequences WHERE ${userSchema} ORDER BY 1`,
  );
  for (const { name, value } of sequences) digest[`secuencia ${name}`] = value ?? 'sin usar';
  return digest;
}
