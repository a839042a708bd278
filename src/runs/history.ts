/**
 * The run history (ETL runs and backfills, newest first, with their errors and what can be done with each) and the
 * state of one backfill: its summary (`ventas backfill --format json`) once finished, its progress before. `ventas runs` and the
 * dashboard's `/api/runs` read the same list.
 */
import { failedChunksOf, getBackfill, ledgerTotals, listBackfills, type LedgerTotals } from '../backfill/ledger.ts';
import { summaryJson, type BackfillSummaryJson } from '../backfill/json.ts';
import type { BackfillSummary } from '../backfill/run.ts';
import type { Queryable } from '../db/types.ts';
import { rerunCommand, resumeCommands } from '../sync/etl.ts';
import { listEtlRuns, type StoreResult } from '../sync/runs.ts';
import { formatRunRef, resumeCommand } from './ref.ts';
import {
  activityOf,
  backfillActivity,
  backfillStanding,
  effectiveStatus,
  etlActivity,
  etlStanding,
  type EffectiveStatus,
} from './status.ts';

/** How a backfill is going, as the API and its server-sent events give it. */
export interface BackfillProgress {
  storeDaysDone: number;
  storeDays: number;
  chunks: { total: number; done: number; failed: number };
  lines: number;
  /** Only known for a backfill this server runs (it saw it start). */
  linesPerSecond: number | null;
  etaSeconds: number | null;
}

/**
 * `running` is a backfill at work (here or in another process); `interrupted` one left unfinished by a process that
 * stopped: `ventas backfill --resume ID` finishes it; `cancelled` one stopped for good before it had a summary.
 */
export type BackfillState =
  ({ status: 'running' | 'interrupted' | 'cancelled' } & BackfillProgress) | BackfillSummaryJson;

/** A backfill that ended (its summary, `interrupted` by a signal included), not one at work or left by a dead process. */
export function isFinished(state: BackfillState): state is BackfillSummaryJson {
  return 'runId' in state;
}

export function progressOf(totals: LedgerTotals, lines: number, elapsedSeconds: number | null): BackfillProgress {
  const rate = elapsedSeconds && elapsedSeconds > 0 ? lines / elapsedSeconds : null;
  const left = totals.storeDays - totals.storeDaysDone;
  const eta =
    elapsedSeconds !== null && totals.storeDaysDone > 0 ? (elapsedSeconds / totals.storeDaysDone) * left : null;
  return {
    storeDaysDone: totals.storeDaysDone,
    storeDays: totals.storeDays,
    chunks: { total: totals.total, done: totals.done, failed: totals.failed },
    lines,
    linesPerSecond: rate === null ? null : Math.round(rate),
    etaSeconds: eta === null ? null : Math.round(eta),
  };
}

/** A backfill's state from the database; null when there is no such backfill. */
export async function readBackfillState(db: Queryable, id: number): Promise<BackfillState | null> {
  const row = await getBackfill(db, id);
  if (!row) return null;
  if (row.status !== 'running' && row.summary) return summaryJson(row.summary as BackfillSummary);
  const totals = await ledgerTotals(db, id);
  // Without a summary it never concluded: cancelled, or running unless its process is gone.
  const status =
    row.status === 'cancelled'
      ? 'cancelled'
      : effectiveStatus('running' as const, activityOf(await backfillActivity(db, [id]), id));
  return { status, ...progressOf(totals, totals.lines, null) };
}

export interface RunItem {
  kind: 'backfill' | 'etl';
  /** The backfill id (for /api/runs/ID) or the ETL run id. */
  id: number;
  /** How `ventas runs show` and `cancel` name it: `12` for a backfill, `etl-7` for an ETL run. */
  ref: string;
  type: 'backfill' | 'scheduled' | 'manual' | 'recovery';
  /** As stored, except a `running` run nobody works on any more, which is `interrupted`. */
  status: EffectiveStatus;
  startedAt: string;
  finishedAt: string | null;
  /** From start to finish; null while unfinished. */
  seconds: number | null;
  /** Backfills: days `YYYY-MM-DD`; ETL runs: `YYYY-MM-DD HH:MM:SS` (null for runs without a window). */
  from: string | null;
  to: string | null;
  stores: string[];
  storeDays: number | null;
  lines: number;
  rowsInserted: number;
  rowsUpdated: number;
  errors: string[];
  /** Backfills: the command that resumes it, when it can be resumed; ETL runs: the command it ran. */
  command: string | null;
  /** `ventas backfill --resume ID` (or `POST /api/runs/ID/resume`) would take it up now. */
  resumable: boolean;
  /**
   * What finishes an unfinished run: a resumable backfill's `ventas backfill --resume ID`; for an ETL run that did
   * not end well, the `ventas etl` commands of the windows it left (its whole window when it died without saying).
   */
  resumeCommand: string | null;
  /** `ventas runs cancel REF` (or `POST /api/runs/REF/cancel`) would cancel it now. */
  cancellable: boolean;
}

const MAX_ERRORS = 10;

function capped(errors: string[]): string[] {
  return errors.length <= MAX_ERRORS
    ? errors
    : [...errors.slice(0, MAX_ERRORS), `… y ${errors.length - MAX_ERRORS} más`];
}

/** A run's duration in tenths of a second; null while unfinished. */
export function secondsBetween(start: Date, end: Date | null): number | null {
  return end ? Math.round((end.getTime() - start.getTime()) / 100) / 10 : null;
}

/** The failed chunks of these backfills, as one line each ("tienda_07 2025-12-03 a 2025-12-05: error"). */
async function failedChunkLines(db: Queryable, ids: readonly number[]): Promise<Map<number, string[]>> {
  const rows = await failedChunksOf(db, ids);
  const out = new Map<number, string[]>();
  for (const f of rows) {
    const line = `${f.storeId} ${f.dayFrom === f.dayTo ? f.dayFrom : `${f.dayFrom} a ${f.dayTo}`}: ${f.error ?? 'sin detalle'}`;
    out.set(f.backfillId, [...(out.get(f.backfillId) ?? []), line]);
  }
  return out;
}

async function backfillItems(db: Queryable, limit: number): Promise<RunItem[]> {
  const rows = await listBackfills(db, limit);
  const ids = rows.map((r) => r.id);
  const failed = await failedChunkLines(db, ids);
  const activity = await backfillActivity(db, ids);
  return rows.map((r) => {
    const standing = backfillStanding(r.status, activityOf(activity, r.id));
    return {
      kind: 'backfill',
      id: r.id,
      ref: formatRunRef({ kind: 'backfill', id: r.id }),
      type: 'backfill',
      status: standing.status,
      startedAt: r.startedAt.toISOString(),
      finishedAt: r.finishedAt?.toISOString() ?? null,
      seconds: secondsBetween(r.startedAt, r.finishedAt),
      from: r.params.from,
      to: r.params.to,
      stores: r.params.stores,
      storeDays: r.storeDays,
      lines: r.lines,
      rowsInserted: r.rowsInserted,
      rowsUpdated: r.rowsUpdated,
      errors: capped(failed.get(r.id) ?? []),
      command: standing.notResumable === null ? resumeCommand(r.id) : null,
      resumable: standing.notResumable === null,
      resumeCommand: standing.notResumable === null ? resumeCommand(r.id) : null,
      cancellable: standing.notCancellable === null,
    };
  });
}

async function etlItems(db: Queryable, limit: number): Promise<RunItem[]> {
  // A backfill's executions are runs too; the backfill's own entry stands for them.
  const rows = await listEtlRuns(db, limit);
  const activity = await etlActivity(
    db,
    rows.filter((r) => r.status === 'running').map((r) => r.id),
  );
  return rows.map((r) => {
    const standing = etlStanding(r.type, r.status, activityOf(activity, r.id));
    return {
      kind: 'etl',
      id: r.id,
      ref: formatRunRef({ kind: 'etl', id: r.id }),
      type: r.type,
      status: standing.status,
      startedAt: r.startedAt.toISOString(),
      finishedAt: r.finishedAt?.toISOString() ?? null,
      seconds: secondsBetween(r.startedAt, r.finishedAt),
      from: r.from,
      to: r.to,
      stores: r.stores,
      storeDays: null,
      lines: r.lines,
      rowsInserted: r.rowsInserted,
      rowsUpdated: r.rowsUpdated,
      errors: capped([
        ...(r.error ? [r.error] : []),
        ...Object.entries(r.storeResults).flatMap(([store, result]) =>
          (result.errors ?? []).map((e) => `${store}: ${e}`),
        ),
      ]),
      command: r.command,
      resumable: false,
      resumeCommand: etlResumeCommand(standing.status, r),
      cancellable: standing.notCancellable === null,
    };
  });
}

/** The commands that finish an ETL run that did not end well, one per line; null when there is nothing to finish. */
function etlResumeCommand(
  status: RunItem['status'],
  run: { from: string | null; to: string | null; stores: string[]; storeResults: Record<string, Partial<StoreResult>> },
): string | null {
  if (status !== 'interrupted' && status !== 'failed' && status !== 'partial') return null;
  const left = resumeCommands({ stores: run.storeResults as Record<string, StoreResult> });
  if (left.length > 0) return left.map((c) => `npx ${c}`).join('\n');
  return run.from && run.to && run.stores.length > 0
    ? `npx ${rerunCommand(run.stores, { from: run.from, to: run.to })}`
    : null;
}

/** ETL runs and backfills, newest first. */
export async function listRuns(db: Queryable, limit: number): Promise<RunItem[]> {
  const items = [...(await backfillItems(db, limit)), ...(await etlItems(db, limit))];
  return items.sort((a, b) => b.startedAt.localeCompare(a.startedAt) || b.id - a.id).slice(0, limit);
}
