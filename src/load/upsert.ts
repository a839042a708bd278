import type { Queryable } from '../db/types.ts';
import { eachDay } from '../shared/dates.ts';
import type { AnswerBatch } from './batch.ts';
import { insertQuarantine } from './quarantine.ts';
import { refreshStoreDays } from './store-days.ts';
import type { SentRows } from './stream.ts';
import { copyNewSales, deleteSalesNotIn, disableJit, hasSales, lockStoreLoads, mergeSales } from './ventas.ts';

export interface LoadCounts {
  inserted: number;
  updated: number;
  unchanged: number;
  deleted: number;
  quarantined: number;
}

export interface LoadOptions {
  runId: number | null;
  /** The answer covered whole days (no hour filter): what KLK reported becomes the day's reference count. */
  wholeDays: boolean;
  /** Delete rows of these whole days that KLK no longer has; only for answers verified complete. */
  mirror?: boolean;
  /**
   * The answer proved itself whole (its `meta` echoed the request, `total_registros` matched): only then is a day
   * without lines recorded as KLK's 0. See refreshStoreDays.
   */
  proven: boolean;
}

/**
 * Loads one store's answer: the set-based merge, the quarantine, the optional mirror delete and the per-day summary,
 * all in the caller's transaction so a failure leaves nothing half-written.
 */
export async function loadBatch(
  tx: Queryable,
  batch: AnswerBatch,
  options: LoadOptions,
  /** What the rows' COPY already did in `tx` while the answer arrived (see load/stream.ts); absent: nothing yet. */
  sent?: SentRows,
): Promise<LoadCounts> {
  const counts: LoadCounts = { inserted: 0, updated: 0, unchanged: 0, deleted: 0, quarantined: batch.rejected };
  const store = batch.store.id;
  const { fechaDesde, fechaHasta } = batch.window;
  await lockStoreLoads(tx, store);
  const days = eachDay(fechaDesde, fechaHasta);
  let leftDays: string[] = [];
  if (batch.size > 0) {
    await disableJit(tx);
    // Days without rows yet take the rows straight in; otherwise (or when a key of the batch is on another day) the merge.
    let copied: number | null;
    if (sent) copied = sent.into === 'ventas' ? sent.copied : null;
    else copied = (await hasSales(tx, store, fechaDesde, fechaHasta)) ? null : await copyNewSales(tx, batch.copyText());
    if (copied !== null) {
      counts.inserted = copied;
    } else {
      const merged = sent?.into === 'merged' ? sent.merged : await mergeSales(tx, batch.copyText());
      counts.inserted = merged.inserted;
      counts.updated = merged.updated;
      leftDays = merged.leftDays.filter((day) => !days.includes(day));
    }
  }
  counts.unchanged = batch.size - counts.inserted - counts.updated;
  const mirrorKeys = options.mirror && options.wholeDays ? batch.mirrorKeys() : null;
  if (mirrorKeys) counts.deleted = await deleteSalesNotIn(tx, store, fechaDesde, fechaHasta, mirrorKeys);
  await insertQuarantine(tx, { storeId: store, runId: options.runId, rejections: batch.rejections });
  await refreshStoreDays(tx, {
    storeId: store,
    days,
    klk: options.wholeDays ? batch.days : null,
    rejected: batch.rejectedByDay(),
    proven: options.proven,
    extraction: { runId: options.runId },
  });
  // Days a row moved away from: their rows changed, KLK's reference for them did not.
  if (leftDays.length > 0)
    await refreshStoreDays(tx, { storeId: store, days: leftDays.sort(), klk: null, extraction: null });
  return counts;
}
