import type { Queryable } from '../db/types.ts';
import { eachDay } from '../shared/dates.ts';
import type { AnswerBatch } from './batch.ts';
import { VENTAS_COLUMNS } from './rows.ts';
import { insertQuarantine } from './quarantine.ts';
import { refreshStoreDays } from './store-days.ts';

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
  /**
   * The answer proved itself whole (its `meta` echoed the request, `total_registros` matched): only then is a day
   * without lines recorded as KLK's 0. See refreshStoreDays.
   */
  proven: boolean;
}

/** First half of the per-store advisory lock (the second is the store id's hash): apart from the KLK slots' keys. */
const STORE_LOCK = 0x76656e74;

const KEY_COLUMNS = new Set(['numero_factura', 'ubicacion_id']);
const COLUMNS = VENTAS_COLUMNS.map(([name]) => name);
const VALUE_COLUMNS = COLUMNS.filter((name) => !KEY_COLUMNS.has(name));
const COLUMN_LIST = COLUMNS.join(', ');

/*
 * The answer's rows are first copied into a temporary table with the exact types of `ventas` (COPY: the cheapest way
 * in, and no WAL for a temporary table), so values are compared rounded as the table stores them; then one
 * statement merges them. ON COMMIT DELETE ROWS empties it at every commit; each connection creates it once.
 */
const STAGING = 'ventas_incoming';
const STAGING_SQL = `
  CREATE TEMP TABLE IF NOT EXISTS ${STAGING} (${VENTAS_COLUMNS.map(([name, type]) => `${name} ${type}`).join(', ')})
    ON COMMIT DELETE ROWS;
  TRUNCATE ${STAGING}`;

const CHANGED = (left: string, right: string) =>
  `(${VALUE_COLUMNS.map((c) => `${left}.${c}`).join(', ')}) IS DISTINCT FROM (${VALUE_COLUMNS.map((c) => `${right}.${c}`).join(', ')})`;

/*
 * The merge; fecha_creacion is never written: it keeps the first load time.
 *
 * When the batch's days already have rows (a re-load, a partial day completed), or a key of the batch is on another
 * day: each row is looked up by its key once (LATERAL ... LIMIT 1 keeps that a probe per row, never a scan of the
 * whole table); new rows are inserted, changed rows updated by their key (the unique index every `ventas` has, an
 * adopted one too), and unchanged rows not touched at all: no new row version, no row lock, no WAL (ON CONFLICT DO
 * UPDATE would lock every one of them). The sort before the insert makes every probe run before the first insert,
 * so the probes never wade through rows this statement is adding, and the inserts arrive in key order. ON CONFLICT
 * DO NOTHING covers a row inserted meanwhile by a hand outside the tool. A row that KLK now dates on another day
 * leaves its old day, whose summary must then be refreshed too: `left_days`.
 */
const UPSERT_SQL = `
  WITH cmp AS MATERIALIZED (
    SELECT s.*, v.found, v.fecha_venta AS old_fecha_venta, ${CHANGED('v', 's')} AS changed
    FROM ${STAGING} s
    LEFT JOIN LATERAL (
      SELECT true AS found, ${VALUE_COLUMNS.map((c) => `t.${c}`).join(', ')} FROM ventas t
      WHERE t.numero_factura = s.numero_factura AND t.ubicacion_id = s.ubicacion_id
      LIMIT 1
    ) v ON true
  ), upd AS (
    UPDATE ventas t SET ${VALUE_COLUMNS.map((c) => `${c} = c.${c}`).join(', ')}
    FROM cmp c
    WHERE c.found AND c.changed AND t.numero_factura = c.numero_factura AND t.ubicacion_id = c.ubicacion_id
    RETURNING 1
  ), ins AS (
    INSERT INTO ventas (${COLUMN_LIST})
    SELECT ${COLUMN_LIST} FROM cmp WHERE found IS NULL
    ORDER BY numero_factura
    ON CONFLICT (numero_factura, ubicacion_id) DO NOTHING
    RETURNING 1
  )
  SELECT (SELECT count(*) FROM ins)::int AS inserted, (SELECT count(*) FROM upd)::int AS updated,
         (SELECT array_agg(DISTINCT to_char(old_fecha_venta, 'YYYY-MM-DD')) FROM cmp
          WHERE found AND changed AND old_fecha_venta::date <> fecha_venta::date) AS left_days`;

/**
 * When the batch's days have no rows yet (a first load, a backfilled hole), every row is new but for a key stamped
 * on another day: the rows are copied straight into `ventas`, the fastest way in. Such a key makes the COPY fail on
 * the unique key; the savepoint then undoes it and the merge takes over (it updates that row). Returns the rows
 * inserted, or null when the merge must run.
 */
async function copyStraightIn(tx: Queryable, batch: AnswerBatch): Promise<number | null> {
  await tx.exec('SAVEPOINT copy_straight_in');
  try {
    const copied = await tx.copyFrom('ventas', COLUMNS, batch.copyText());
    await tx.exec('RELEASE SAVEPOINT copy_straight_in');
    return copied;
  } catch (error) {
    if ((error as { code?: unknown }).code !== UNIQUE_VIOLATION) throw error;
    await tx.exec('ROLLBACK TO SAVEPOINT copy_straight_in');
    return null;
  }
}

const UNIQUE_VIOLATION = '23505';

/**
 * Loads one store's answer: the set-based merge, the quarantine, the optional mirror delete and the per-day summary,
 * all in the caller's transaction so a failure leaves nothing half-written.
 */
export async function loadBatch(tx: Queryable, batch: AnswerBatch, options: LoadOptions): Promise<LoadCounts> {
  const counts: LoadCounts = { inserted: 0, updated: 0, unchanged: 0, deleted: 0, quarantined: batch.rejected };
  const store = batch.store.id;
  // One load of a store at a time, whoever runs it (ETL, backfill, worker): the day summaries recomputed below must
  // see every row another load of the same store has committed.
  await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [STORE_LOCK, store]);
  const days = eachDay(batch.window.fechaDesde, batch.window.fechaHasta);
  let leftDays: string[] = [];
  if (batch.size > 0) {
    // The merge costs enough to trigger JIT compilation, which takes longer than the merge itself.
    await tx.exec('SET LOCAL jit = off');
    const merged = (await hasRows(tx, batch)) ? null : await copyStraightIn(tx, batch);
    if (merged !== null) {
      counts.inserted = merged;
    } else {
      await tx.exec(STAGING_SQL);
      await tx.copyFrom(STAGING, COLUMNS, batch.copyText());
      const { rows } = await tx.query<{ inserted: number; updated: number; left_days: string[] | null }>(UPSERT_SQL);
      counts.inserted = rows[0]!.inserted;
      counts.updated = rows[0]!.updated;
      leftDays = (rows[0]!.left_days ?? []).filter((day) => !days.includes(day));
    }
  }
  counts.unchanged = batch.size - counts.inserted - counts.updated;
  const mirrorKeys = options.mirror && options.wholeDays ? batch.mirrorKeys() : null;
  if (mirrorKeys) counts.deleted = await mirrorDelete(tx, batch, mirrorKeys);
  await insertQuarantine(tx, { storeId: store, runId: options.runId, rejections: batch.rejections });
  await refreshStoreDays(tx, {
    storeId: store,
    days,
    klk: options.wholeDays ? batch.days : null,
    rejected: batch.rejectedByDay(),
    proven: options.proven,
    extraction: { runId: options.runId },
  });
  // Days a row moved away from: their rows changed, KLK's reference for them did not.
  if (leftDays.length > 0) await refreshStoreDays(tx, { storeId: store, days: leftDays.sort(), klk: null, extraction: null });
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

/** Deletes rows of the batch's whole days that the (complete) answer no longer has: voided invoices. */
async function mirrorDelete(tx: Queryable, batch: AnswerBatch, keep: readonly string[]): Promise<number> {
  const { rowCount } = await tx.query(
    `DELETE FROM ventas v
     WHERE v.ubicacion_id = $1 AND v.fecha_venta >= $2::date AND v.fecha_venta < $3::date + 1
       AND NOT EXISTS (SELECT 1 FROM unnest($4::text[]) AS k(numero_factura) WHERE k.numero_factura = v.numero_factura)`,
    [batch.store.id, batch.window.fechaDesde, batch.window.fechaHasta, keep],
  );
  return rowCount;
}
