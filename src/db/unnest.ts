import { PLAIN_IDENTIFIER, toArrayLiteral } from './conventions.ts';

const typeName = /^[a-z][a-z0-9_ ]*(\(\s*\d+\s*(,\s*\d+\s*)?\))?$/i;

function quoteIdentifier(name: string): string {
  return PLAIN_IDENTIFIER.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

/**
 * The set-based load helper: `SELECT * FROM unnest($1::text[], $2::numeric[]) AS t(a, b)` with one parameter per
 * column (`data` holds one array per column, all the same length), so a batch of any size is one statement with a
 * handful of parameters. Each array goes as a PostgreSQL array literal built here, not by the driver, so pg and
 * PGlite receive the very same text: nulls stay nulls, strings arrive byte for byte (quotes, backslashes, commas,
 * braces, 'NULL', unicode), numbers for numeric columns may be strings ('12.3400') and stay exact, Dates go as UTC
 * ISO instants, objects as JSON.
 */
export function unnest(
  columns: ReadonlyArray<readonly [name: string, pgType: string]>,
  data: ReadonlyArray<ReadonlyArray<unknown>>,
  firstParam = 1,
): { sql: string; params: unknown[] } {
  if (columns.length === 0) throw new Error('unnest: se necesita al menos una columna');
  if (columns.length !== data.length) throw new Error(`unnest: ${columns.length} columnas y ${data.length} arreglos`);
  const length = data[0]?.length ?? 0;
  const args = columns.map(([name, type], i) => {
    if (!typeName.test(type)) throw new Error(`unnest: tipo no admitido ${JSON.stringify(type)} para ${name}`);
    if (data[i]?.length !== length)
      throw new Error(`unnest: la columna ${name} tiene ${data[i]?.length} valores, no ${length}`);
    return `$${firstParam + i}::${type}[]`;
  });
  const names = columns.map(([name]) => quoteIdentifier(name));
  return {
    sql: `SELECT * FROM unnest(${args.join(', ')}) AS t(${names.join(', ')})`,
    params: data.map((values) => toArrayLiteral(values)),
  };
}
