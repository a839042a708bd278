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
}

/** Rows per statement: large enough to be set-based, small enough to keep one statement's arrays modest. */
const ROWS_PER_STATEMENT = 25_000;

const KEY_COLUMNS = new Set(['numero_factura', 'ubicacion_id']);
const VALUE_COLUMNS = VENTAS_COLUMNS.map(([name]) => name).filter((name) => !KEY_COLUMNS.has(name));
const COLUMN_LIST = VENTAS_COLUMNS.map(([name]) => name).join(', ');

// A row whose values did not change is not rewritten (no dead tuple, no WAL); fecha_creacion keeps the first load.
const UPSERT_TAIL = `
  ON CONFLICT (numero_factura, ubicacion_id) DO UPDATE SET
    ${VALUE_COLUMNS.map((c) => `${c} = EXCLUDED.${c}`).join(',\n    ')}
  WHERE (${VALUE_COLUMNS.map((c) => `ventas.${c}`).join(', ')})
    IS DISTINCT FROM (${VALUE_COLUMNS.map((c) => `EXCLUDED.${c}`).join(', ')})
  RETURNING (xmax = 0) AS inserted`;

/**
 * Loads one store's answer: the set-based upsert, the quarantine, the optional mirror delete and the per-day summary,
 * all in the caller's transaction so a failure leaves nothing half-written.
 */
export async function loadBatch(tx: Queryable, batch: AnswerBatch, options: LoadOptions): Promise<LoadCounts> {
  const counts: LoadCounts = { inserted: 0, updated: 0, unchanged: 0, deleted: 0, quarantined: batch.rejected };
  for (let start = 0; start < batch.size; start += ROWS_PER_STATEMENT) {
    const slice = batch.columns.map((values) => values.slice(start, start + ROWS_PER_STATEMENT));
    const source = unnest(VENTAS_COLUMNS, slice);
    const { rows } = await tx.query<{ inserted: number; updated: number }>(
      `WITH up AS (
         INSERT INTO ventas (${COLUMN_LIST})
         ${source.sql}
         ${UPSERT_TAIL}
       )
       SELECT count(*) FILTER (WHERE inserted)::int AS inserted, count(*) FILTER (WHERE NOT inserted)::int AS updated
       FROM up`,
      source.params,
    );
    counts.inserted += rows[0]!.inserted;
    counts.updated += rows[0]!.updated;
  }
  counts.unchanged = batch.size - counts.inserted - counts.updated;
  if (options.mirror && options.wholeDays) counts.deleted = await mirrorDelete(tx, batch);
  await quarantine(tx, batch, options.runId);
  await refreshStoreDays(tx, batch, options);
  return counts;
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
