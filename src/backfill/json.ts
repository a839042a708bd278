import type { CoverageTotals } from '../coverage/index.ts';
import type { BackfillSummary } from './run.ts';

/** The backfill's JSON summary (`ventas backfill --format json`, `GET /api/runs/ID`): `runId` is the backfill's id, the one `POST /api/backfill` answers. */
export type BackfillSummaryJson = { runId: number } & Omit<BackfillSummary, 'backfillId'>;

/** The summary with its keys in the order `ventas backfill --format json` prints them. */
export function summaryJson(s: BackfillSummary): BackfillSummaryJson {
  return {
    runId: s.backfillId,
    status: s.status,
    chunks: { total: s.chunks.total, done: s.chunks.done, failed: s.chunks.failed },
    storeDays: s.storeDays,
    rowsInserted: s.rowsInserted,
    rowsUpdated: s.rowsUpdated,
    rowsDeleted: s.rowsDeleted,
    duplicatesInSource: s.duplicatesInSource,
    quarantined: s.quarantined,
    seconds: s.seconds,
    before: totalsJson(s.before),
    after: totalsJson(s.after),
  };
}

/** Stored as jsonb, whose key order is its own: back to the order of the coverage report's totals. */
function totalsJson(t: CoverageTotals): CoverageTotals {
  return {
    expectedStoreDays: t.expectedStoreDays,
    missingStoreDays: t.missingStoreDays,
    partialStoreDays: t.partialStoreDays,
  };
}
