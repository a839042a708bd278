import type { CoverageTotals } from '../coverage/index.ts';
import type { BackfillSummary } from './run.ts';

/** The JSON of spec section 6: `runId` is the backfill's id, the one `POST /api/backfill` answers. */
export type BackfillSummaryJson = { runId: number } & Omit<BackfillSummary, 'backfillId'>;

/** The summary as spec section 6 prints it, keys in its order. */
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

/** Stored as jsonb, whose key order is its own: back to the order of spec section 4's totals. */
function totalsJson(t: CoverageTotals): CoverageTotals {
  return { expectedStoreDays: t.expectedStoreDays, missingStoreDays: t.missingStoreDays, partialStoreDays: t.partialStoreDays };
}

