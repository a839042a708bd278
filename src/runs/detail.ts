/** Everything about one run, for `ventas runs show ID`. */
import { failedChunks, getBackfill, ledgerTotals, ledgerTotalsByStore } from '../backfill/ledger.ts';
import type { CoverageTotals } from '../coverage/index.ts';
import type { Queryable } from '../db/types.ts';
import { getEtlRun, type StoreResult } from '../sync/runs.ts';
import { UnknownRunError } from './errors.ts';
import { secondsBetween } from './history.ts';
import { describeRunRef, formatRunRef, resumeCommand, type RunRef } from './ref.ts';
import {
  activityOf,
  backfillActivity,
  backfillStanding,
  etlActivity,
  etlStanding,
  type EffectiveStatus,
} from './status.ts';

interface ChunkCounts {
  total: number;
  done: number;
  failed: number;
  pending: number;
  running: number;
}

export interface BackfillDetail {
  kind: 'backfill';
  id: number;
  ref: string;
  status: EffectiveStatus;
  startedAt: string;
  finishedAt: string | null;
  seconds: number | null;
  from: string;
  to: string;
  stores: string[];
  mirror: boolean;
  concurrency: number;
  chunks: ChunkCounts;
  storeDays: number;
  storeDaysDone: number;
  lines: number;
  rowsInserted: number;
  rowsUpdated: number;
  rowsDeleted: number;
  duplicatesInSource: number;
  quarantined: number;
  /** Coverage totals when it started, and when it last concluded (null before it ever concluded). */
  before: CoverageTotals | null;
  after: CoverageTotals | null;
  perStore: Array<{
    store: string;
    chunks: ChunkCounts;
    storeDays: number;
    storeDaysDone: number;
    lines: number;
    rowsInserted: number;
    rowsUpdated: number;
  }>;
  failedChunks: Array<{ store: string; from: string; to: string; attempts: number; error: string | null }>;
  /** `host:pid` of the processes working on it now. */
  workedOnBy: string[];
  resumeCommand: string | null;
  whyNotResumable: string | null;
  cancellable: boolean;
  whyNotCancellable: string | null;
}

export interface EtlRunDetail {
  kind: 'etl';
  id: number;
  ref: string;
  type: 'scheduled' | 'manual' | 'recovery' | 'backfill';
  status: EffectiveStatus;
  startedAt: string;
  finishedAt: string | null;
  seconds: number | null;
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
  perStore: Array<{
    store: string;
    status: StoreResult['status'];
    requests: number;
    lines: number;
    rowsInserted: number;
    rowsUpdated: number;
    errors: string[];
  }>;
  cancellable: boolean;
  whyNotCancellable: string | null;
}

export type RunDetail = BackfillDetail | EtlRunDetail;

async function backfillDetail(db: Queryable, id: number): Promise<BackfillDetail | null> {
  const row = await getBackfill(db, id);
  if (!row) return null;
  const totals = await ledgerTotals(db, id);
  const perStore = await ledgerTotalsByStore(db, id);
  const activity = activityOf(await backfillActivity(db, [id]), id);
  const standing = backfillStanding(row.status, activity);
  const summary = row.summary as { before?: CoverageTotals; after?: CoverageTotals } | null;
  return {
    kind: 'backfill',
    id,
    ref: formatRunRef({ kind: 'backfill', id }),
    status: standing.status,
    startedAt: row.createdAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
    seconds: secondsBetween(row.createdAt, row.finishedAt),
    from: row.params.from,
    to: row.params.to,
    stores: row.params.stores,
    mirror: row.params.mirror,
    concurrency: row.params.concurrency,
    chunks: {
      total: totals.total,
      done: totals.done,
      failed: totals.failed,
      pending: totals.pending,
      running: totals.running,
    },
    storeDays: totals.storeDays,
    storeDaysDone: totals.storeDaysDone,
    lines: totals.lines,
    rowsInserted: totals.inserted,
    rowsUpdated: totals.updated,
    rowsDeleted: totals.deleted,
    duplicatesInSource: totals.duplicates,
    quarantined: totals.quarantined,
    before: summary?.before ?? (row.params.before as CoverageTotals | undefined) ?? null,
    after: summary?.after ?? null,
    perStore: perStore.map((s) => ({
      store: s.store,
      chunks: { total: s.total, done: s.done, failed: s.failed, pending: s.pending, running: s.running },
      storeDays: s.storeDays,
      storeDaysDone: s.storeDaysDone,
      lines: s.lines,
      rowsInserted: s.rowsInserted,
      rowsUpdated: s.rowsUpdated,
    })),
    failedChunks: (await failedChunks(db, id)).map((c) => ({
      store: c.storeId,
      from: c.dayFrom,
      to: c.dayTo,
      attempts: c.attempts,
      error: c.error,
    })),
    workedOnBy: activity.holders,
    resumeCommand: standing.notResumable === null ? resumeCommand(id) : null,
    whyNotResumable: standing.notResumable,
    cancellable: standing.notCancellable === null,
    whyNotCancellable: standing.notCancellable,
  };
}

async function etlRunDetail(db: Queryable, id: number): Promise<EtlRunDetail | null> {
  const r = await getEtlRun(db, id);
  if (!r) return null;
  const standing = etlStanding(r.type, r.status, activityOf(await etlActivity(db, [id]), id));
  return {
    kind: 'etl',
    id,
    ref: formatRunRef({ kind: 'etl', id }),
    type: r.type,
    status: standing.status,
    startedAt: r.startedAt.toISOString(),
    finishedAt: r.finishedAt?.toISOString() ?? null,
    seconds: secondsBetween(r.startedAt, r.finishedAt),
    from: r.from,
    to: r.to,
    stores: r.stores,
    command: r.command,
    error: r.error,
    lines: r.lines,
    rowsInserted: r.rowsInserted,
    rowsUpdated: r.rowsUpdated,
    rowsUnchanged: r.rowsUnchanged,
    rowsDeleted: r.rowsDeleted,
    duplicates: r.duplicates,
    quarantined: r.quarantined,
    perStore: Object.entries(r.storeResults)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([store, s]) => ({
        store,
        status: s.status ?? 'success',
        requests: s.requests ?? 0,
        lines: s.extracted ?? 0,
        rowsInserted: s.inserted ?? 0,
        rowsUpdated: s.updated ?? 0,
        errors: s.errors ?? [],
      })),
    cancellable: standing.notCancellable === null,
    whyNotCancellable: standing.notCancellable,
  };
}

/** One run in detail; UnknownRunError (exit 2, HTTP 404) when there is none. */
export async function runDetail(db: Queryable, ref: RunRef): Promise<RunDetail> {
  const detail = ref.kind === 'backfill' ? await backfillDetail(db, ref.id) : await etlRunDetail(db, ref.id);
  if (!detail) throw new UnknownRunError(`no existe ${describeRunRef(ref)}`);
  return detail;
}
