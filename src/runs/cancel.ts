/** `ventas runs cancel ID` and `POST /api/runs/ID/cancel`: a run stopped for good. */
import { cancelBackfill } from '../backfill/ledger.ts';
import type { Queryable } from '../db/types.ts';
import { cancelEtlRun } from '../sync/runs.ts';
import { runDetail, type RunDetail } from './detail.ts';
import { RunStateError } from './errors.ts';
import { describeRunRef, type RunRef } from './ref.ts';

export interface CancelOutcome {
  /** The run as it was just before it was cancelled. */
  before: RunDetail;
  /**
   * `host:pid` of the processes that were working on the backfill: each stops claiming its chunks at the next claim
   * (those in flight finish) and concludes it as cancelled. Empty when nobody was.
   */
  stopping: string[];
}

/**
 * Cancels a backfill that is not complete nor cancelled (its pending chunks are never run), or an ETL run left
 * `running` by a process that died. UnknownRunError when there is no such run; RunStateError saying why otherwise.
 */
export async function cancelRun(db: Queryable, ref: RunRef): Promise<CancelOutcome> {
  const before = await runDetail(db, ref);
  if (!before.cancellable)
    throw new RunStateError(`${describeRunRef(ref)} no se puede cancelar: ${before.whyNotCancellable}`);
  const workedOn = before.status === 'running';
  const done =
    ref.kind === 'backfill' ? await cancelBackfill(db, ref.id, { workedOn }) : await cancelEtlRun(db, ref.id);
  if (!done) throw new RunStateError(`${describeRunRef(ref)} no se puede cancelar: terminó mientras se cancelaba`);
  return { before, stopping: before.kind === 'backfill' && workedOn ? before.workedOnBy : [] };
}
