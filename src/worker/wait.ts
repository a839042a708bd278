import { setTimeout as delay } from 'node:timers/promises';
import type { Config } from '../catalogue/config.ts';
import { backfillStatus, ledgerTotals, type LedgerTotals } from '../backfill/ledger.ts';
import { finishQueuedBackfill, type BackfillSummary } from '../backfill/run.ts';
import type { Db } from '../db/types.ts';

/**
 * `ventas backfill --queue --wait`: follows a queued backfill in the ledger while the workers run it, and once no
 * chunk is pending or running (or it was cancelled) finishes it (or takes the summary of the worker that did) like
 * `ventas backfill`.
 */
export async function waitForQueuedBackfill(
  db: Db,
  config: Config,
  queued: { backfillId: number; runId: number },
  options: { onProgress?: (totals: LedgerTotals) => void; pollMs?: number; signal?: AbortSignal } = {},
): Promise<BackfillSummary> {
  for (;;) {
    const totals = await ledgerTotals(db, queued.backfillId);
    options.onProgress?.(totals);
    // A cancelled backfill ends with chunks left: the workers drop them.
    if (totals.pending + totals.running === 0 || (await backfillStatus(db, queued.backfillId)) === 'cancelled') {
      const finished = await finishQueuedBackfill(db, config, queued.backfillId, queued.runId);
      if (finished) return finished.summary;
    }
    await delay(options.pollMs ?? 1_000, undefined, { signal: options.signal });
  }
}
