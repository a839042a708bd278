import { unnest } from '../db/index.ts';
import type { Queryable } from '../db/types.ts';
import { eachDay } from '../shared/dates.ts';
import type { AnswerBatch } from './batch.ts';
import { VENTAS_COLUMNS } from './rows.ts';

export interface LoadCounts {
  inserted: number;
  updated: number;
  unchanged: number;
  deleted: number;
  quarantined: number;
}

export interface LoadOptions {
  runId: number | null;
  /** The answer covered whole days (no hour filter): what KLK reported becomes the day's reference count. */
  wholeDays: boolean;
  /** Delete rows of these whole days that KLK no longer has; only for answers verified complete. */
  mirror?: boolean;
  /** Rows per statement (default 20,000); tests make it small to cross statement boundaries. */
  rowsPerStatement?: number;
}

/**
 * Rows per statement: large enough to be set-based, small enough that building the next statement's arrays
 * overlaps PostgreSQL's work on the current one.
 */
const ROWS_PER_STATEMENT = 20_000;

const KEY_COLUMNS = new Set(['numero_factura', 'ubicacion_id']);
const COLUMNS = VENTAS_COLUMNS.map(([name]) => name);
const VALUE_COLUMNS = COLUMNS.filter((name) => !KEY_COLUMNS.has(name));
const COLUMN_LIST = COLUMNS.join(', ');
const NUMERIC_COLUMN = VENTAS_COLUMNS.map(([, type]) => type.startsWith('numeric'));

const SOURCE = `SELECT * FROM unnest(${VENTAS_COLUMNS.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ')}) AS s(${COLUMN_LIST})`;
const CHANGED = (left: string, right: string) =>
  `(${VALUE_COLUMNS.map((c) => `${left}.${c}`).join(', ')}) IS DISTINCT FROM (${VALUE_COLUMNS.map((c) => `${right}.${c}`).join(', ')})`;

/*
 * Two statements, one per slice, chosen once per batch. The source arrays carry the table's exact types, so values
 * are compared rounded as the table stores them; fecha_creacion is never written: it keeps the first load time.
 *
 * When the batch's days already have rows (a re-load, a partial day completed): each row is looked up by its key
 * once (LATERAL ... LIMIT 1 keeps that a probe per row, never a scan of the whole table); new rows are inserted,
 * changed rows updated, and unchanged rows not touched at all: no new row version, no row lock, no WAL (ON CONFLICT
 * DO UPDATE would lock every one of them). The sort before the insert makes every probe run before the first
 * insert, so the probes never wade through rows this statement is adding, and the inserts arrive in key order.
 * ON CONFLICT DO NOTHING covers a row inserted by another load meanwhile.
 */
const UPSERT_SQL = `
  WITH cmp AS MATERIALIZED (
    SELECT s.*, v.id AS existing_id, ${CHANGED('v', 's')} AS changed
    FROM (${SOURCE}) s
    LEFT JOIN LATERAL (
      SELECT t.id, ${VALUE_COLUMNS.map((c) => `t.${c}`).join(', ')} FROM ventas t
      WHERE t.numero_factura = s.numero_factura AND t.ubicacion_id = s.ubicacion_id
      LIMIT 1
    ) v ON true
  ), upd AS (
    UPDATE ventas t SET ${VALUE_COLUMNS.map((c) => `${c} = c.${c}`).join(', ')}
    FROM cmp c
    WHERE c.existing_id IS NOT NULL AND c.changed AND t.id = c.existing_id
    RETURNING 1
  ), ins AS (
    INSERT INTO ventas (${COLUMN_LIST})
    SELECT ${COLUMN_LIST} FROM cmp WHERE existing_id IS NULL
    ORDER BY numero_factura
    ON CONFLICT (numero_factura, ubicacion_id) DO NOTHING
    RETURNING 1
  )
  SELECT (SELECT count(*) FROM ins)::int AS inserted, (SELECT count(*) FROM upd)::int AS updated`;

/*
 * When the batch's days have no rows yet (a first load, a backfilled hole), nearly every row is new: one plain
 * upsert without the probes. A conflict can only be a row of the same key stamped on another day, which is updated
 * when it differs, as the probe statement would.
 */
const INSERT_SQL = `
  WITH ins AS (
    INSERT INTO ventas (${COLUMN_LIST})
    ${SOURCE}
    ON CONFLICT (numero_factura, ubicacion_id) DO UPDATE SET ${VALUE_COLUMNS.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}
    WHERE ${CHANGED('ventas', 'EXCLUDED')}
    RETURNING (xmax = 0) AS inserted
  )
  SELECT count(*) FILTER (WHERE inserted)::int AS inserted, count(*) FILTER (WHERE NOT inserted)::int AS updated FROM ins`;

/**
 * Loads one store's answer: the set-based upsert, the quarantine, the optional mirror delete and the per-day summary,
 * all in the caller's transaction so a failure leaves nothing half-written.
 */
export async function loadBatch(tx: Queryable, batch: AnswerBatch, options: LoadOptions): Promise<LoadCounts> {
  const counts: LoadCounts = { inserted: 0, updated: 0, unchanged: 0, deleted: 0, quarantined: batch.rejected };
  // The statements below cost enough to trigger JIT compilation, which takes longer than they run.
  await tx.query('SET LOCAL jit = off');
  const slice = options.rowsPerStatement ?? ROWS_PER_STATEMENT;
  const sql = batch.size > 0 && (await hasRows(tx, batch)) ? UPSERT_SQL : INSERT_SQL;
  let params = batch.size > 0 ? await sliceLiterals(batch, 0, slice) : null;
  for (let start = 0; params; start += slice) {
    const running = tx.query<{ inserted: number; updated: number }>(sql, params);
    // Handled when awaited below; meanwhile a failure must not count as unhandled.
    running.catch(() => undefined);
    // Built while PostgreSQL works on the statement just sent: both processes busy at once.
    params = start + slice < batch.size ? await sliceLiterals(batch, start + slice, slice) : null;
    const { rows } = await running;
    counts.inserted += rows[0]!.inserted;
    counts.updated += rows[0]!.updated;
  }
  counts.unchanged = batch.size - counts.inserted - counts.updated;
  if (options.mirror && options.wholeDays) counts.deleted = await mirrorDelete(tx, batch);
  await quarantine(tx, batch, options.runId);
  await refreshStoreDays(tx, batch, options);
  return counts;
}

/** Whether `ventas` has any row of the batch's store on the batch's days. */
async function hasRows(tx: Queryable, batch: AnswerBatch): Promise<boolean> {
  const { rows } = await tx.query<{ found: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM ventas WHERE ubicacion_id = $1 AND fecha_venta >= $2::date AND fecha_venta < $3::date + 1) AS found`,
    [batch.store.id, batch.window.fechaDesde, batch.window.fechaHasta],
  );
  return rows[0]!.found;
}

/**
 * One slice of the batch as one array literal per column, built here in one pass per column (the values are known
 * texts and finite numbers), yielding between columns so the statement in flight keeps streaming to the server.
 */
async function sliceLiterals(batch: AnswerBatch, start: number, rows: number): Promise<string[]> {
  const end = Math.min(batch.size, start + rows);
  const literals: string[] = [];
  for (let i = 0; i < batch.columns.length; i++) {
    literals.push(arrayLiteral(batch.columns[i]!.slice(start, end), NUMERIC_COLUMN[i]!));
    await new Promise((resolve) => setImmediate(resolve));
  }
  return literals;
}

/** `{1.5,2}` for numbers, `{"a","b"}` for texts; any other value (or a text needing escapes) quoted one by one. */
export function arrayLiteral(values: readonly unknown[], numeric: boolean): string {
  let plain = true;
  for (const v of values) {
    if (numeric ? !(typeof v === 'number' && Number.isFinite(v)) : typeof v !== 'string' || v.includes('"') || v.includes('\\')) {
      plain = false;
      break;
    }
  }
  if (plain) return numeric ? `{${values.join(',')}}` : `{"${values.join('","')}"}`;
  return `{${values.map(quoteElement).join(',')}}`;
}

function quoteElement(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  return `"${String(value).replace(/[\\"]/g, '\\$&')}"`;
}

/** Deletes rows of the batch's whole days that the (complete) answer no longer has: voided invoices. */
async function mirrorDelete(tx: Queryable, batch: AnswerBatch): Promise<number> {
  const { rowCount } = await tx.query(
    `DELETE FROM ventas v
     WHERE v.ubicacion_id = $1 AND v.fecha_venta >= $2::date AND v.fecha_venta < $3::date + 1
       AND NOT EXISTS (SELECT 1 FROM unnest($4::text[]) AS k(numero_factura) WHERE k.numero_factura = v.numero_factura)`,
    [batch.store.id, batch.window.fechaDesde, batch.window.fechaHasta, batch.rowKeys()],
  );
  return rowCount;
}

async function quarantine(tx: Queryable, batch: AnswerBatch, runId: number | null): Promise<void> {
  if (batch.rejections.length === 0) return;
  const r = batch.rejections;
  const source = unnest(
    [
      ['numero_factura', 'text'],
      ['linea', 'text'],
      ['reason', 'text'],
      ['line', 'jsonb'],
    ],
    [
      r.map((x) => x.numeroFactura?.slice(0, 100) ?? null),
      r.map((x) => x.linea?.slice(0, 20) ?? null),
      r.map((x) => x.reason),
      r.map((x) => JSON.stringify(x.line ?? null)),
    ],
    3,
  );
  await tx.query(
    `INSERT INTO quarantine (run_id, store_id, numero_factura, linea, reason, line)
     SELECT $1, $2, t.numero_factura, t.linea, t.reason, t.line FROM (${source.sql}) t`,
    [runId, batch.store.id, ...source.params],
  );
}

/**
 * Recomputes the summary of every day the answer covered from `ventas` itself (so it is right whatever happened
 * before), and for whole days records what KLK reported, 0 included: that is how an empty day is told from a
 * missing one.
 */
async function refreshStoreDays(tx: Queryable, batch: AnswerBatch, options: LoadOptions): Promise<void> {
  const days = eachDay(batch.window.fechaDesde, batch.window.fechaHasta);
  const klkLines = days.map((d) => (options.wholeDays ? (batch.days.get(d)?.lines ?? 0) : null));
  const klkTotal = days.map((d) => (options.wholeDays ? ((batch.days.get(d)?.totalUsdE4 ?? 0) / 1e4).toFixed(4) : null));
  await tx.query(
    `INSERT INTO store_days AS sd
       (store_id, day, lines, total_usd, klk_lines, klk_total_usd, whole_day_extracted_at, extracted_at, last_run_id)
     SELECT $1, d.day, coalesce(v.lines, 0), coalesce(v.total, 0), d.klk_lines, d.klk_total,
            CASE WHEN d.klk_lines IS NULL THEN NULL ELSE now() END, now(), $2
     FROM unnest($3::date[], $4::int[], $5::numeric[]) AS d(day, klk_lines, klk_total)
     LEFT JOIN LATERAL (
       SELECT count(*)::int AS lines, sum(venta_total) AS total
       FROM ventas
       WHERE ubicacion_id = $1 AND fecha_venta >= d.day AND fecha_venta < d.day + 1
     ) v ON true
     ON CONFLICT (store_id, day) DO UPDATE SET
       lines = EXCLUDED.lines,
       total_usd = EXCLUDED.total_usd,
       klk_lines = coalesce(EXCLUDED.klk_lines, sd.klk_lines),
       klk_total_usd = coalesce(EXCLUDED.klk_total_usd, sd.klk_total_usd),
       whole_day_extracted_at = coalesce(EXCLUDED.whole_day_extracted_at, sd.whole_day_extracted_at),
       extracted_at = EXCLUDED.extracted_at,
       last_run_id = EXCLUDED.last_run_id`,
    [batch.store.id, options.runId, days, klkLines, klkTotal],
  );
}
