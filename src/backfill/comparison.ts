/** The before/after `ventas verify` shows: what the last backfill over the selected stores and window measured. */
import { z } from '../shared/zod.ts';
import type { CoverageTotals } from '../coverage/index.ts';
import type { Queryable } from '../db/types.ts';
import type { IsoDate } from '../shared/dates.ts';
import { latestFinishedBackfill } from './ledger.ts';

/** The newest finished backfill touching the stores and window, with the coverage totals it measured before and after. */
export interface BackfillComparison {
  id: number;
  status: 'complete' | 'partial' | 'failed';
  from: IsoDate;
  to: IsoDate;
  finishedAt: Date;
  before: CoverageTotals;
  after: CoverageTotals;
}

const totalsSchema = z.object({
  expectedStoreDays: z.number().int().nonnegative(),
  missingStoreDays: z.number().int().nonnegative(),
  partialStoreDays: z.number().int().nonnegative(),
});
const backfillSchema = z.object({
  params: z.object({ from: z.string(), to: z.string(), before: totalsSchema.optional() }),
  summary: z.object({ before: totalsSchema.optional(), after: totalsSchema }),
});

/**
 * Only a backfill whose window overlaps the selected one and that covered at least one of the selected stores: one
 * over other stores says nothing about these.
 */
export async function latestComparison(
  db: Queryable,
  selection: { from: IsoDate; to: IsoDate; storeIds: readonly string[] },
): Promise<BackfillComparison | null> {
  const row = await latestFinishedBackfill(db, selection);
  if (!row) return null;
  const parsed = backfillSchema.safeParse({ params: row.params, summary: row.summary });
  const before = parsed.success ? (parsed.data.summary.before ?? parsed.data.params.before) : undefined;
  if (!parsed.success || !before) return null;
  const { params, summary } = parsed.data;
  return {
    id: row.id,
    status: row.status,
    from: params.from,
    to: params.to,
    finishedAt: row.finishedAt,
    before,
    after: summary.after,
  };
}
