/**
 * The run history: every ETL run and backfill run (`etl_runs`) and the KLK requests they made (`klk_requests`, the
 * planner's timings). The one module whose SQL names either table: one function per statement, the handle first.
 */
import { ownerGone } from '../db/liveness.ts';
import type { Queryable } from '../db/types.ts';
import type { RequestSample } from '../plan/timing.ts';
import type { Interval } from './interval.ts';

export type RunType = 'scheduled' | 'manual' | 'recovery' | 'backfill';
/** `interrupted`: stopped by a signal; `cancelled`: a run whose process died, closed by a person (`ventas runs cancel`). */
export type RunStatus = 'running' | 'success' | 'partial' | 'failed' | 'skipped' | 'interrupted' | 'cancelled';

export interface StoreResult {
  /** `interrupted`: the run was stopped (a signal) before all its windows were loaded. */
  status: 'success' | 'failed' | 'skipped' | 'interrupted';
  requests: number;
  extracted: number;
  inserted: number;
  updated: number;
  unchanged: number;
  deleted: number;
  duplicates: number;
  quarantined: number;
  errors: string[];
  /** Windows that could not be loaded, to resume exactly what is missing. */
  failedWindows: Interval[];
  /** Every failure was KLK not answering at all (connection refused, DNS): KLK is unreachable, not misbehaving. */
  unreachable: boolean;
  /** Whole days an answer that did not prove itself (no `meta` echoing the request) had no line of: still missing. */
  unprovenEmptyDays?: string[];
}

export function emptyStoreResult(): StoreResult {
  return {
    status: 'success',
    requests: 0,
    extracted: 0,
    inserted: 0,
    updated: 0,
    unchanged: 0,
    deleted: 0,
    duplicates: 0,
    quarantined: 0,
    errors: [],
    failedWindows: [],
    unreachable: false,
  };
}

/**
 * The holder of an ETL run's store leases: `etl:RUN:OWNER`, the run's id first so the leases tell whether the run is
 * alive, then its process's lease owner (db/liveness.ts), so a holder whose process is gone is seen at once.
 */
export function leaseHolder(runId: number, owner: string): string {
  return `${leaseHolderPrefix(runId)}${owner}`;
}

/** What every lease holder of run `runId` starts with. */
export function leaseHolderPrefix(runId: number): string {
  return `etl:${runId}:`;
}

export async function startRun(
  db: Queryable,
  run: { type: RunType; window: Interval | null; stores: readonly string[]; command?: string; owner?: string },
): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO etl_runs (run_type, status, window_from, window_to, stores, command, owner)
     VALUES ($1, 'running', $2, $3, $4, $5, $6) RETURNING id`,
    [run.type, run.window?.from ?? null, run.window?.to ?? null, run.stores, run.command ?? null, run.owner ?? null],
  );
  return rows[0]!.id;
}

export async function finishRun(
  db: Queryable,
  runId: number,
  status: RunStatus,
  results: Record<string, StoreResult>,
  error: string | null,
): Promise<void> {
  const all = Object.values(results);
  const sum = (key: keyof StoreResult) => all.reduce((n, r) => n + (r[key] as number), 0);
  await db.query(
    `UPDATE etl_runs SET status = $2, finished_at = now(), lines_extracted = $3, rows_inserted = $4, rows_updated = $5,
       rows_unchanged = $6, rows_deleted = $7, duplicates = $8, quarantined = $9, store_results = $10, error = $11
     WHERE id = $1`,
    [
      runId,
      status,
      sum('extracted'),
      sum('inserted'),
      sum('updated'),
      sum('unchanged'),
      sum('deleted'),
      sum('duplicates'),
      sum('quarantined'),
      JSON.stringify(results),
      error,
    ],
  );
}

/**
 * Records as interrupted the runs of these stores whose process is gone (killed, or ended on a lost database before
 * it could close its run), when `takenBy` takes their stores over: from then on the row itself says what happened,
 * not only what its owner's absence implies.
 */
export async function closeAbandonedRuns(
  db: Queryable,
  storeIds: readonly string[],
  takenBy: number | null,
): Promise<void> {
  if (storeIds.length === 0) return;
  const note = `su proceso terminó sin cerrarla${takenBy === null ? '' : `; sus tiendas las retomó la ejecución etl-${takenBy}`}`;
  await db.query(
    `UPDATE etl_runs SET status = 'interrupted', finished_at = now(), error = coalesce(error, $2)
     WHERE status = 'running' AND run_type <> 'backfill' AND stores && $1::text[] AND id IS DISTINCT FROM $3::bigint
       AND ${ownerGone('owner')}`,
    [storeIds, note, takenBy],
  );
}

/** When a run started, as ISO-8601 UTC text to the microsecond (exact when given back as a timestamptz); null: no such run. */
export async function runStartedAt(db: Queryable, runId: number): Promise<string | null> {
  const { rows } = await db.query<{ at: string }>(
    `SELECT to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at FROM etl_runs WHERE id = $1`,
    [runId],
  );
  return rows[0]?.at ?? null;
}

/**
 * Of these runs, those that began less than `startingMs` ago and whose process is not gone: they may still be
 * waiting for their leases.
 */
export async function startingRuns(db: Queryable, runIds: readonly number[], startingMs: number): Promise<number[]> {
  if (runIds.length === 0) return [];
  const { rows } = await db.query<{ id: number }>(
    `SELECT id FROM etl_runs
     WHERE id = ANY($1::bigint[]) AND started_at > now() - $2 * interval '1 millisecond' AND NOT ${ownerGone('owner')}`,
    [runIds, startingMs],
  );
  return rows.map((r) => r.id);
}

/** A run as stored, for the history and `ventas runs show`. */
export interface EtlRunRow {
  id: number;
  type: RunType;
  status: RunStatus;
  startedAt: Date;
  finishedAt: Date | null;
  /** `YYYY-MM-DD HH:MM:SS`; null for runs without a window. */
  from: string | null;
  to: string | null;
  stores: string[];
  command: string | null;
  error: string | null;
  lines: number;
  rowsInserted: number;
  rowsUpdated: number;
  rowsUnchanged: number;
  rowsDeleted: number;
  duplicates: number;
  quarantined: number;
  /** As stored: written by every version of the tool, so any field may be missing. */
  storeResults: Record<string, Partial<StoreResult>>;
}

const RUN_COLUMNS = `id, run_type AS type, status, started_at AS "startedAt", finished_at AS "finishedAt", window_from AS "from",
  window_to AS "to", stores, command, error, lines_extracted AS lines, rows_inserted AS "rowsInserted",
  rows_updated AS "rowsUpdated", rows_unchanged AS "rowsUnchanged", rows_deleted AS "rowsDeleted", duplicates,
  quarantined, store_results AS "storeResults"`;

export async function getEtlRun(db: Queryable, runId: number): Promise<EtlRunRow | null> {
  const { rows } = await db.query<EtlRunRow>(`SELECT ${RUN_COLUMNS} FROM etl_runs WHERE id = $1`, [runId]);
  return rows[0] ?? null;
}

/** The latest `limit` ETL runs, newest first; a backfill's runs are left out (the backfill's own entry stands for them). */
export async function listEtlRuns(db: Queryable, limit: number): Promise<EtlRunRow[]> {
  const { rows } = await db.query<EtlRunRow>(
    `SELECT ${RUN_COLUMNS} FROM etl_runs WHERE run_type <> 'backfill' ORDER BY id DESC LIMIT $1`,
    [limit],
  );
  return rows;
}

/** Closes a run left `running` by a process that died; false when it had finished meanwhile. */
export async function cancelEtlRun(db: Queryable, runId: number): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE etl_runs SET status = 'cancelled', finished_at = now(), error = coalesce(error, 'cancelada con ventas runs cancel')
     WHERE id = $1 AND status = 'running'`,
    [runId],
  );
  return rowCount === 1;
}

export async function recordRequest(
  db: Queryable,
  request: {
    runId: number | null;
    storeId: string;
    dayFrom: string;
    dayTo: string;
    horaDesde?: string;
    horaHasta?: string;
    outcome: 'ok' | 'empty' | 'failed' | 'timeout';
    lines: number;
    /** The successful attempt, from sending the request to the end of its body. */
    durationMs: number;
    /** Loading its answer, once received (absent when nothing was loaded). */
    loadMs?: number;
    attempts: number;
    error?: string;
  },
): Promise<void> {
  await db.query(
    `INSERT INTO klk_requests (run_id, store_id, day_from, day_to, hora_desde, hora_hasta, outcome, lines, duration_ms, load_ms, attempts, error)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
    [
      request.runId,
      request.storeId,
      request.dayFrom,
      request.dayTo,
      request.horaDesde ?? null,
      request.horaHasta ?? null,
      request.outcome,
      request.lines,
      Math.round(request.durationMs),
      request.loadMs === undefined ? null : Math.round(request.loadMs),
      request.attempts,
      request.error ?? null,
    ],
  );
}

/**
 * The latest `limit` requests that got a whole answer (ok or empty), newest first: their KLK time and, when their
 * load was timed, the load's, in seconds. What the planner's cost model is fitted on.
 */
export async function requestTimings(db: Queryable, limit: number): Promise<RequestSample[]> {
  const { rows } = await db.query<{ lines: number; ms: number; load_ms: number | null }>(
    `SELECT lines, duration_ms AS ms, load_ms FROM klk_requests WHERE outcome IN ('ok', 'empty') ORDER BY id DESC LIMIT $1`,
    [limit],
  );
  return rows.map((r) => ({
    lines: r.lines,
    seconds: r.ms / 1000,
    loadSeconds: r.load_ms === null ? null : r.load_ms / 1000,
  }));
}

/** The KLK request that last touched a store-day (whole day or part of it), with the run that made it. */
export interface StoreDayRequest {
  requestedAt: Date;
  outcome: 'ok' | 'empty' | 'failed' | 'timeout';
  lines: number;
  error: string | null;
  dayFrom: string;
  dayTo: string;
  horaDesde: string | null;
  horaHasta: string | null;
  run: { id: number; type: RunType; status: RunStatus; command: string | null } | null;
}

export async function lastRequestFor(db: Queryable, storeId: string, day: string): Promise<StoreDayRequest | null> {
  const { rows } = await db.query<{
    requested_at: Date;
    outcome: StoreDayRequest['outcome'];
    lines: number;
    error: string | null;
    day_from: string;
    day_to: string;
    hora_desde: string | null;
    hora_hasta: string | null;
    run_id: string | number | null;
    run_type: RunType | null;
    status: RunStatus | null;
    command: string | null;
  }>(
    `SELECT q.requested_at, q.outcome, q.lines, q.error, to_char(q.day_from, 'YYYY-MM-DD') AS day_from,
       to_char(q.day_to, 'YYYY-MM-DD') AS day_to, q.hora_desde, q.hora_hasta, r.id AS run_id, r.run_type, r.status,
       r.command
     FROM klk_requests q LEFT JOIN etl_runs r ON r.id = q.run_id
     WHERE q.store_id = $1 AND q.day_from <= $2::date AND q.day_to >= $2::date
     ORDER BY q.requested_at DESC, q.id DESC LIMIT 1`,
    [storeId, day],
  );
  const row = rows[0];
  if (!row) return null;
  return {
    requestedAt: new Date(row.requested_at),
    outcome: row.outcome,
    lines: row.lines,
    error: row.error,
    dayFrom: row.day_from,
    dayTo: row.day_to,
    horaDesde: row.hora_desde,
    horaHasta: row.hora_hasta,
    run:
      row.run_id === null || row.run_type === null
        ? null
        : { id: Number(row.run_id), type: row.run_type, status: row.status!, command: row.command },
  };
}
