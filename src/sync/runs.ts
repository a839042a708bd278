import { randomUUID } from 'node:crypto';
import type { Queryable } from '../db/types.ts';
import type { Interval } from './interval.ts';

export type RunType = 'scheduled' | 'manual' | 'recovery' | 'backfill';
/** `interrupted`: stopped by a signal before its work was done; what was left can be run again. */
export type RunStatus = 'running' | 'success' | 'partial' | 'failed' | 'skipped' | 'interrupted';

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
 * A run's status as readers show it: `running` only while a process still works on it; a run whose process died
 * (SIGKILL, a crash, a machine lost) is `interrupted`, as one stopped by a signal is. `live` comes from
 * liveRunIds (ETL runs) or liveBackfillIds (backfills).
 */
export function shownRunStatus<S extends string>(stored: S, live: boolean): S | 'interrupted' {
  return stored === 'running' && !live ? 'interrupted' : stored;
}

/** The holder of an ETL run's store leases: the run's id first, so the leases tell whether the run is alive. */
export function leaseHolder(runId: number | null): string {
  return `etl:${runId ?? 'sin-registro'}:${process.pid}:${randomUUID()}`;
}

/**
 * The runs among `ids` a process still works on. An ETL run: it holds a live store lease (renewed while it works),
 * or started within a lease's length (still waiting for its leases). A backfill's run: it is its backfill's newest
 * run and the backfill is live (see liveBackfillIds, passed in so this module does not read the ledger).
 */
export async function liveRunIds(
  db: Queryable,
  ids: readonly number[],
  liveBackfills: (backfillIds: number[]) => Promise<Set<number>>,
): Promise<Set<number>> {
  if (ids.length === 0) return new Set();
  const { rows } = await db.query<{ id: number; backfillId: number | null; newest: boolean; leased: boolean }>(
    `SELECT r.id, b.id AS "backfillId",
       r.id = (SELECT max(o.id) FROM etl_runs o WHERE o.run_type = 'backfill' AND substring(o.command FROM '^backfill #([0-9]+)') = b.id::text) AS newest,
       r.started_at > now() - interval '2 minutes'
         OR EXISTS (SELECT 1 FROM store_leases l WHERE starts_with(l.holder, 'etl:' || r.id || ':') AND l.expires_at > now()) AS leased
     FROM etl_runs r LEFT JOIN LATERAL (SELECT substring(r.command FROM '^backfill #([0-9]+)')::bigint AS id) b ON r.run_type = 'backfill'
     WHERE r.id = ANY($1::bigint[]) AND r.status = 'running'`,
    [ids],
  );
  const backfills = await liveBackfills(rows.flatMap((r) => (r.backfillId !== null && r.newest ? [r.backfillId] : [])));
  return new Set(rows.filter((r) => (r.backfillId === null ? r.leased : r.newest && backfills.has(r.backfillId))).map((r) => r.id));
}

export async function startRun(
  db: Queryable,
  run: { type: RunType; window: Interval | null; stores: readonly string[]; command?: string },
): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO etl_runs (run_type, status, window_from, window_to, stores, command)
     VALUES ($1, 'running', $2, $3, $4, $5) RETURNING id`,
    [run.type, run.window?.from ?? null, run.window?.to ?? null, run.stores, run.command ?? null],
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
    durationMs: number;
    attempts: number;
    error?: string;
  },
): Promise<void> {
  await db.query(
    `INSERT INTO klk_requests (run_id, store_id, day_from, day_to, hora_desde, hora_hasta, outcome, lines, duration_ms, attempts, error)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
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
      request.attempts,
      request.error ?? null,
    ],
  );
}
