/**
 * Each table's SQL lives in one module (see "Arquitectura" in the README): a statement that names a table is in its
 * owner's module and nowhere else, and the doors (cli/, web/) hold no SQL at all. Read from the sources' string and
 * template literals, so a query written anywhere else fails here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const SRC = join(ROOT, 'src');

/** Table -> the one module whose SQL may name it. Tightly bound tables share theirs. */
const OWNERS: Record<string, string> = {
  ventas: 'src/load/ventas.ts',
  store_days: 'src/load/ventas.ts',
  quarantine: 'src/load/quarantine.ts',
  etl_runs: 'src/sync/runs.ts',
  klk_requests: 'src/sync/runs.ts',
  store_leases: 'src/sync/leases.ts',
  backfills: 'src/backfill/ledger.ts',
  backfill_chunks: 'src/backfill/ledger.ts',
  daemon_ticks: 'src/daemon/ticks.ts',
  daemon_leader: 'src/daemon/leadership.ts',
  heal_attempts: 'src/daemon/heal-attempts.ts',
  daemon_cycles: 'src/daemon/cycles.ts',
  daemon_store_syncs: 'src/daemon/store-syncs.ts',
  incidents: 'src/incidents/store.ts',
  alert_deliveries: 'src/incidents/store.ts',
  schema_migrations: 'src/db/migrate.ts',
};

/** The tables the migrations create (and schema_migrations, which migrate.ts creates itself). */
function migratedTables(): string[] {
  const dir = join(SRC, 'db', 'migrations');
  const sql = readdirSync(dir)
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .join('\n');
  return [...new Set([...sql.matchAll(/CREATE TABLE IF NOT EXISTS (\w+)/gi)].map((m) => m[1]!.toLowerCase()))];
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** A module specifier (`'./ventas.ts'`, a dynamic `import('...')`): a path, not text. */
function isModulePath(node: ts.Node): boolean {
  const parent = node.parent;
  return (
    ts.isImportDeclaration(parent) ||
    ts.isExportDeclaration(parent) ||
    (ts.isCallExpression(parent) && parent.expression.kind === ts.SyntaxKind.ImportKeyword)
  );
}

/**
 * The text of every string and template literal of a source (a template's pieces joined, its holes as `?`), and the
 * table a `copyFrom('table', ...)` names, as `COPY table`.
 */
function literals(path: string): string[] {
  const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) && !isModulePath(node)) {
      found.push(node.text);
    } else if (ts.isTemplateExpression(node)) {
      found.push([node.head.text, ...node.templateSpans.map((s) => s.literal.text)].join('?'));
    }
    if (
      ts.isCallExpression(node) &&
      ts.isPropertyAccessExpression(node.expression) &&
      node.expression.name.text === 'copyFrom'
    ) {
      const table = node.arguments[0];
      if (table && ts.isStringLiteral(table)) found.push(`COPY ${table.text}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/**
 * What makes a literal SQL: a statement's verb, a relation after FROM/JOIN followed by more of a query, a transaction
 * or session command at its start, or a column qualified by one of the tables (`backfill_chunks.lease_owner`, a
 * fragment). Plain text naming the command `ventas` or its folder `.ventas` is none of these.
 */
const SQL = new RegExp(
  [
    String.raw`\b(SELECT|INSERT\s+INTO|UPDATE\s+\w+(\s+\w+)?\s+SET|DELETE\s+FROM|COPY\s+\w+|TRUNCATE\s+\w+|(CREATE|ALTER|DROP)\s+(TEMP\s+)?TABLE)\b`,
    String.raw`\b(FROM|JOIN)\s+\w+\s+(\w+\s+)?(WHERE|JOIN|ON|GROUP|ORDER)\b`,
    String.raw`^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|SET(\s+LOCAL)?\s+\w+\s*(=|TO)\s)`,
    String.raw`(?<![\w$.])(${Object.keys(OWNERS).join('|')})\.[a-z_]+\b`,
  ].join('|'),
  'i',
);

function isSql(text: string): boolean {
  return SQL.test(text);
}

/**
 * The tables a SQL text names: each as a whole word (a qualified column `table.column` included), outside its quoted
 * constants (a message that says `ventas runs cancel` names the command, not the table).
 */
function tablesIn(text: string, tables: readonly string[]): string[] {
  const code = text.replace(/'(?:[^']|'')*'/g, "''");
  return tables.filter((t) => new RegExp(`(?<![\\w$])${t}(?![\\w$])`, 'i').test(code));
}

const files = sourceFiles(SRC).map((path) => {
  const rel = relative(ROOT, path).split('\\').join('/');
  return { rel, sql: literals(path).filter(isSql) };
});

describe('each table is named in the SQL of one module', () => {
  const tables = migratedTables();

  it('knows the owner of every table the migrations create', () => {
    expect(tables.length).toBeGreaterThan(0);
    expect([...tables, 'schema_migrations'].filter((t) => !(t in OWNERS))).toEqual([]);
  });

  it('finds each table in its owner module, and in no other', () => {
    const namedBy: Record<string, string[]> = {};
    for (const { rel, sql } of files) {
      for (const table of tablesIn(sql.join('\n'), Object.keys(OWNERS))) (namedBy[table] ??= []).push(rel);
    }
    const expected = Object.fromEntries(Object.entries(OWNERS).map(([table, owner]) => [table, [owner]]));
    expect(namedBy).toEqual(expected);
  });

  it('finds no SQL under src/cli/ or src/web/', () => {
    const doors = files.filter((f) => /^src\/(cli|web)\//.test(f.rel) && f.sql.length > 0);
    expect(doors.map((f) => ({ file: f.rel, sql: f.sql }))).toEqual([]);
  });

  it('tells SQL from other text', () => {
    expect(
      tablesIn(
        literals(join(SRC, 'backfill', 'ledger.ts'))
          .filter(isSql)
          .join('\n'),
        ['backfills', 'backfill_chunks'],
      ),
    ).toEqual(['backfills', 'backfill_chunks']);
    expect(isSql('SELECT 1')).toBe(true);
    expect(isSql('select count(*) from ventas')).toBe(true);
    expect(isSql(`DELETE FROM store_leases WHERE store_id = ANY($1::text[])`)).toBe(true);
    expect(isSql('UPDATE backfills b SET status = $2')).toBe(true);
    expect(isSql('lines FROM ventas v WHERE v.ubicacion_id = $1')).toBe(true);
    expect(isSql('COPY ventas')).toBe(true);
    expect(isSql('npx ventas backfill --from 2026-01-10 --to 2026-01-25')).toBe(false);
    expect(isSql('Cobertura de ventas del 2025-10-28 al 2026-01-25')).toBe(false);
    expect(tablesIn('SELECT 1 FROM ventas_incoming, store_days_x', ['ventas', 'store_days'])).toEqual([]);
    expect(tablesIn('SELECT c.state FROM backfill_chunks c', ['backfills', 'backfill_chunks'])).toEqual([
      'backfill_chunks',
    ]);
    expect(tablesIn(`UPDATE etl_runs SET error = 'cancelada con ventas runs cancel'`, ['ventas', 'etl_runs'])).toEqual([
      'etl_runs',
    ]);
    expect(isSql('--truncate-rate <f>')).toBe(false);
    expect(isSql('SET LOCAL jit = off')).toBe(true);
    expect(isSql('backfill_chunks.lease_owner')).toBe(true);
    expect(isSql('carpeta de la base embebida; la de la demo es .ventas/demo')).toBe(false);
    expect(isSql('Set the stores')).toBe(false);
  });
});
