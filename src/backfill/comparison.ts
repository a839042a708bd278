/** The before/after `ventas verify` shows: what the last backfill over the selected stores and window measured. */
import { z } from '../shared/zod.ts';
import type { CoverageTotals } from '../coverage/index.ts';
import type { Queryable } from '../db/types.ts';
import type { IsoDate } from '../shared/dates.ts';

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
  const { rows } = await db.query<{ id: number; status: BackfillComparison['status']; params: unknown; summary: unknown; finished_at: Date }>(
    `SELECT id, status, params, summary, finished_at
       FROM backfills
      WHERE finished_at IS NOT NULL AND status IN ('complete', 'partial', 'failed')
        AND params->>'from' <= $2 AND params->>'to' >= $1
        AND params->'stores' ?| $3::text[]
      ORDER BY finished_at DESC, id DESC
      LIMIT 1`,
    [selection.from, selection.to, selection.storeIds],
  );
  const row = rows[0];
  if (!row) return null;
  const parsed = backfillSchema.safeParse({ params: row.params, summary: row.summary });
  const before = parsed.success ? (parsed.data.summary.before ?? parsed.data.params.before) : undefined;
  if (!parsed.success || !before) return null;
  const { params, summary } = parsed.data;
  return { id: row.id, status: row.status, from: params.from, to: params.to, finishedAt: row.finished_at, before, after: summary.after };
}
