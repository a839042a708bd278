/**
 * The `ventas` table and `store_days`, its summary per store and local day: the one module whose SQL names either.
 * They are one module because every load recounts its days' summary from `ventas` in the same statement that
 * records KLK's figures for them. One function per statement, the handle first; the callers (the load, coverage,
 * the planner's evidence, reconciliation, the ETL's recent-gap check) hold no SQL.
 */
import type { CopySource, Queryable } from '../db/types.ts';
import type { IsoDate } from '../shared/dates.ts';
import type { DayTally } from './batch.ts';
import { VENTAS_COLUMNS } from './rows.ts';

// --- Loading an answer's rows (see loadBatch) ---

/** First half of the per-store advisory lock (the second is the store id's hash): apart from the KLK slots' keys. */
const STORE_LOCK = 0x76656e74;

/**
 * One load of a store at a time, whoever runs it (ETL, backfill, worker), until the caller's transaction ends: the
 * day summaries a load recomputes must see every row another load of the same store has committed.
 */
export async function lockStoreLoads(tx: Queryable, storeId: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [STORE_LOCK, storeId]);
}

/** The merge costs enough to trigger JIT compilation, which takes longer than the merge itself: off until commit. */
export async function disableJit(tx: Queryable): Promise<void> {
  await tx.exec('SET LOCAL jit = off');
}

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
 * Merges rows (COPY text of VENTAS_COLUMNS) into `ventas`: inserts the new, updates the changed, leaves the rest.
 * `leftDays`: days a row moved away from (KLK now dates it on another day).
 */
export async function mergeSales(tx: Queryable, copyText: CopySource): Promise<MergeCounts> {
  await stageSales(tx, copyText);
  return mergeStagedSales(tx);
}

export interface MergeCounts {
  inserted: number;
  updated: number;
  leftDays: IsoDate[];
}

/** The first half of mergeSales: the rows into the (emptied) staging table. Returns the rows copied. */
export async function stageSales(tx: Queryable, copyText: CopySource): Promise<number> {
  await tx.exec(STAGING_SQL);
  return tx.copyFrom(STAGING, COLUMNS, copyText);
}

/** The second half of mergeSales: the staged rows merged into `ventas`. */
export async function mergeStagedSales(tx: Queryable): Promise<MergeCounts> {
  const { rows } = await tx.query<{ inserted: number; updated: number; left_days: string[] | null }>(UPSERT_SQL);
  return { inserted: rows[0]!.inserted, updated: rows[0]!.updated, leftDays: rows[0]!.left_days ?? [] };
}

const UNIQUE_VIOLATION = '23505';

/**
 * When the rows' days have none yet (a first load, a backfilled hole), every row is new but for a key stamped on
 * another day: they are copied straight into `ventas`, the fastest way in. Such a key makes the COPY fail on the
 * unique key; the savepoint then undoes it. Returns the rows inserted, or null when mergeSales must run instead.
 */
export async function copyNewSales(tx: Queryable, copyText: CopySource): Promise<number | null> {
  await tx.exec('SAVEPOINT copy_straight_in');
  try {
    const copied = await tx.copyFrom('ventas', COLUMNS, copyText);
    await tx.exec('RELEASE SAVEPOINT copy_straight_in');
    return copied;
  } catch (error) {
    if ((error as { code?: unknown }).code !== UNIQUE_VIOLATION) throw error;
    await tx.exec('ROLLBACK TO SAVEPOINT copy_straight_in');
    return null;
  }
}

/** Whether `ventas` has any row of the store on the days `from..to`. */
export async function hasSales(tx: Queryable, storeId: string, from: IsoDate, to: IsoDate): Promise<boolean> {
  const { rows } = await tx.query<{ found: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM ventas WHERE ubicacion_id = $1 AND fecha_venta >= $2::date AND fecha_venta < $3::date + 1) AS found`,
    [storeId, from, to],
  );
  return rows[0]!.found;
}

/** Deletes the store's rows of the days `from..to` whose invoice line is not in `keep`: voided invoices. */
export async function deleteSalesNotIn(
  tx: Queryable,
  storeId: string,
  from: IsoDate,
  to: IsoDate,
  keep: readonly string[],
): Promise<number> {
  const { rowCount } = await tx.query(
    `DELETE FROM ventas v
     WHERE v.ubicacion_id = $1 AND v.fecha_venta >= $2::date AND v.fecha_venta < $3::date + 1
       AND NOT EXISTS (SELECT 1 FROM unnest($4::text[]) AS k(numero_factura) WHERE k.numero_factura = v.numero_factura)`,
    [storeId, from, to, keep],
  );
  return rowCount;
}

// --- The per-day summary ---

/** What refreshStoreDays records of each day (see load/store-days.ts), one array element per day. */
export interface StoreDaysRecount {
  storeId: string;
  days: readonly IsoDate[];
  /** KLK's lines and USD total (text, 4 decimals) of each day, its quarantined lines and their fingerprint; null: unknown. */
  klkLines: ReadonlyArray<number | null>;
  klkTotalUsd: ReadonlyArray<string | null>;
  klkRejected: ReadonlyArray<number | null>;
  klkRejectedFingerprint: ReadonlyArray<string | null>;
  /** A whole-day answer without proof had no line of the day. */
  unprovenEmpty: readonly boolean[];
  /** An extraction (stamps `extracted_at` and the run), or a check that only records KLK's figures. */
  extraction: boolean;
  runId: number | null;
  /** When the answer came (ISO), on the `ventas` clock. */
  answeredAt: string;
}

/*
 * Each day's own figures are recomputed from `ventas` in the same statement, so the summary is right whatever
 * happened before; KLK's whole-day figures, when given, become the day's reference, 0 included: that is how an
 * empty day is told from a missing one, and, with the count of quarantined lines, from a rejected one. A day found
 * all-rejected again with another fingerprint than the all-rejected answer before it is marked as changed at source.
 */
const RECOUNT_SQL = `
  INSERT INTO store_days AS sd
    (store_id, day, lines, total_usd, klk_lines, klk_total_usd, klk_rejected, klk_rejected_fingerprint,
     whole_day_extracted_at, extracted_at, last_run_id, empty_since, empty_seen_at, unproven_empty_at)
  SELECT $1, d.day, coalesce(v.lines, 0), coalesce(v.total, 0), d.klk_lines, d.klk_total, d.rejected, d.fingerprint,
         CASE WHEN d.klk_lines IS NULL THEN NULL ELSE now() END, CASE WHEN $5 THEN now() END, $6,
         CASE WHEN d.klk_lines = 0 AND d.rejected = 0 THEN $10::timestamptz END,
         CASE WHEN d.klk_lines = 0 AND d.rejected = 0 THEN $10::timestamptz END,
         CASE WHEN d.unproven_empty THEN $10::timestamptz END
  FROM unnest($2::date[], $3::int[], $4::numeric[], $7::int[], $8::text[], $9::boolean[])
    AS d(day, klk_lines, klk_total, rejected, fingerprint, unproven_empty)
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
    klk_rejected = CASE WHEN EXCLUDED.klk_lines IS NULL THEN sd.klk_rejected ELSE EXCLUDED.klk_rejected END,
    klk_rejected_fingerprint =
      CASE WHEN EXCLUDED.klk_lines IS NULL THEN sd.klk_rejected_fingerprint ELSE EXCLUDED.klk_rejected_fingerprint END,
    rejected_source_changed_at = CASE
      WHEN EXCLUDED.klk_lines IS NULL THEN sd.rejected_source_changed_at
      WHEN EXCLUDED.klk_lines = 0 AND EXCLUDED.klk_rejected > 0 AND sd.klk_lines = 0 AND sd.klk_rejected > 0
           AND EXCLUDED.klk_rejected_fingerprint IS DISTINCT FROM sd.klk_rejected_fingerprint THEN now()
      ELSE NULL END,
    whole_day_extracted_at = coalesce(EXCLUDED.whole_day_extracted_at, sd.whole_day_extracted_at),
    extracted_at = coalesce(EXCLUDED.extracted_at, sd.extracted_at),
    last_run_id = CASE WHEN $5 THEN EXCLUDED.last_run_id ELSE sd.last_run_id END,
    -- A run of proven 0-line answers keeps its first; an answer with lines (sold or quarantined) ends the run; an
    -- answer that proves nothing (no meta, or hours only) leaves it as it was.
    empty_since = CASE
      WHEN EXCLUDED.klk_lines IS NULL THEN sd.empty_since
      WHEN EXCLUDED.empty_since IS NOT NULL THEN coalesce(sd.empty_since, EXCLUDED.empty_since)
      ELSE NULL END,
    empty_seen_at = CASE
      WHEN EXCLUDED.klk_lines IS NULL THEN sd.empty_seen_at
      ELSE EXCLUDED.empty_seen_at END,
    unproven_empty_at = CASE
      WHEN EXCLUDED.unproven_empty_at IS NOT NULL THEN EXCLUDED.unproven_empty_at
      WHEN EXCLUDED.klk_lines IS NULL THEN sd.unproven_empty_at
      ELSE NULL END`;

/** Recounts the store's `days` from `ventas` and records what KLK said of them: one statement, in the caller's transaction. */
export async function recountStoreDays(db: Queryable, recount: StoreDaysRecount): Promise<void> {
  await db.query(RECOUNT_SQL, [
    recount.storeId,
    recount.days,
    recount.klkLines,
    recount.klkTotalUsd,
    recount.extraction,
    recount.runId,
    recount.klkRejected,
    recount.klkRejectedFingerprint,
    recount.unprovenEmpty,
    recount.answeredAt,
  ]);
}

/** A timestamptz column as ISO-8601 UTC text, the same on both backends whatever the session's time zone. */
function isoInstant(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ${column}`;
}

/** A `store_days` row as the coverage report reads it (instants as ISO text). */
export interface StoreDaySummary {
  store_id: string;
  day: string;
  lines: number;
  total_usd: string;
  klk_lines: number | null;
  klk_rejected: number | null;
  source_changed: boolean;
  empty_since: string | null;
  empty_seen_at: string | null;
  unproven_empty_at: string | null;
}

/** The summary rows of these stores on the days `from..to`, by store and day. */
export async function storeDaySummaries(
  db: Queryable,
  storeIds: readonly string[],
  from: IsoDate,
  to: IsoDate,
): Promise<StoreDaySummary[]> {
  const { rows } = await db.query<StoreDaySummary>(
    `SELECT store_id, day, lines, total_usd, klk_lines, klk_rejected, rejected_source_changed_at IS NOT NULL AS source_changed,
            ${isoInstant('empty_since')}, ${isoInstant('empty_seen_at')}, ${isoInstant('unproven_empty_at')}
       FROM store_days
      WHERE store_id = ANY($1::text[]) AND day BETWEEN $2::date AND $3::date
      ORDER BY store_id, day`,
    [[...storeIds], from, to],
  );
  return rows;
}

/** The first and last day with rows ever, of those of these stores that have any. */
export async function salesSpans(
  db: Queryable,
  storeIds: readonly string[],
): Promise<Array<{ storeId: string; firstSale: IsoDate; lastSale: IsoDate }>> {
  const { rows } = await db.query<{ storeId: string; firstSale: IsoDate; lastSale: IsoDate }>(
    `SELECT store_id AS "storeId", min(day) AS "firstSale", max(day) AS "lastSale"
       FROM store_days
      WHERE store_id = ANY($1::text[]) AND lines > 0
      GROUP BY store_id`,
    [[...storeIds]],
  );
  return rows;
}

/**
 * The lines of each store's latest `days` days with sales not known to be partial, newest first. A day KLK counted
 * whole and the table has fewer lines of is partial; a day KLK never counted whole is taken as it is (an adopted
 * table's days have no KLK count).
 */
export async function recentDayLines(
  db: Queryable,
  storeIds: readonly string[],
  days: number,
): Promise<Array<{ storeId: string; lines: number }>> {
  const { rows } = await db.query<{ storeId: string; lines: number }>(
    `SELECT store_id AS "storeId", lines FROM (
       SELECT store_id, day, lines, row_number() OVER (PARTITION BY store_id ORDER BY day DESC) AS recent
       FROM store_days
       WHERE store_id = ANY($1::text[]) AND lines > 0 AND (klk_lines IS NULL OR lines >= klk_lines)
     ) d
     WHERE recent <= $2
     ORDER BY store_id, day DESC`,
    [[...storeIds], days],
  );
  return rows;
}

// --- Straight from `ventas` ---

/** Lines and USD total per local day of a store, straight from `ventas`: one grouped query over the days' span. */
export async function tableDays(
  db: Queryable,
  storeId: string,
  from: IsoDate,
  to: IsoDate,
): Promise<Map<IsoDate, DayTally>> {
  const { rows } = await db.query<{ day: string; lines: number; usd: string }>(
    `SELECT to_char(fecha_venta, 'YYYY-MM-DD') AS day, count(*)::int AS lines, sum(venta_total)::text AS usd
       FROM ventas
      WHERE ubicacion_id = $1 AND fecha_venta >= $2::date AND fecha_venta < $3::date + 1
      GROUP BY 1`,
    [storeId, from, to],
  );
  return new Map(rows.map((r) => [r.day, { lines: r.lines, totalUsdE4: toE4(r.usd) }]));
}

/** A numeric(18,4) text as an exact integer of ten-thousandths. */
function toE4(text: string | null): number {
  if (!text) return 0;
  const negative = text.startsWith('-');
  const [whole, fraction = ''] = text.replace(/^-/, '').split('.');
  const value = Number(whole) * 10_000 + Number(fraction.padEnd(4, '0').slice(0, 4));
  return negative ? -value : value;
}

/**
 * Per store, the hours (`YYYY-MM-DD HH:00:00`) from `from` up to `to` (local times, `to` excluded) in which it has
 * rows; a store with none is absent.
 */
export async function hoursWithSales(
  db: Queryable,
  storeIds: readonly string[],
  from: string,
  to: string,
): Promise<Map<string, Set<string>>> {
  const { rows } = await db.query<{ storeId: string; hour: string }>(
    `SELECT DISTINCT ubicacion_id AS "storeId", to_char(date_trunc('hour', fecha_venta), 'YYYY-MM-DD HH24:MI:SS') AS hour
     FROM ventas WHERE ubicacion_id = ANY($1::text[]) AND fecha_venta >= $2 AND fecha_venta < $3`,
    [[...storeIds], from, to],
  );
  const hours = new Map<string, Set<string>>();
  for (const r of rows) hours.set(r.storeId, (hours.get(r.storeId) ?? new Set()).add(r.hour));
  return hours;
}
