/**
 * The set-based load helper: rows passed as one array per column and expanded by `unnest`, so a batch of any size
 * is one statement with a handful of parameters, identical on pg and PGlite (both send JS arrays as array literals).
 */
export function unnest(
  columns: ReadonlyArray<readonly [name: string, pgType: string]>,
  data: ReadonlyArray<ReadonlyArray<unknown>>,
  firstParam = 1,
): { sql: string; params: unknown[] } {
  if (columns.length !== data.length) throw new Error(`unnest: ${columns.length} columnas y ${data.length} arreglos`);
  const length = data[0]?.length ?? 0;
  if (data.some((d) => d.length !== length)) throw new Error('unnest: columnas de distinto largo');
  const args = columns.map(([, type], i) => `$${firstParam + i}::${type}[]`).join(', ');
  const names = columns.map(([name]) => name).join(', ');
  return { sql: `SELECT * FROM unnest(${args}) AS t(${names})`, params: data.map((d) => [...d]) };
}
