/**
 * What becomes of a fetched window in the database: its answer loaded with its request recorded (one commit), or its
 * failure recorded. Both in klk_requests, which the planner reads to time requests.
 */
import type { Db, Queryable } from '../db/types.ts';
import type { SentRows } from '../load/stream.ts';
import { loadBatch, type LoadCounts } from '../load/upsert.ts';
import { isWholeDays } from '../shared/window.ts';
import { recordRequest } from '../sync/runs.ts';
import type { WindowAnswer, WindowFailure, WindowResult } from './fetch.ts';

export interface LoadAnswerOptions {
  /** The run history row the rows and the request are recorded under. */
  runId: number | null;
  /** Delete rows of the answer's days that KLK no longer has: done only when the answer proved itself whole. */
  mirror: boolean;
  /** Runs in the same transaction, after the load and before the request is recorded: what it throws undoes both. */
  within?: (tx: Queryable, counts: LoadCounts) => Promise<void>;
}

/** The request's identity in klk_requests. */
function requestOf(result: WindowResult, runId: number | null) {
  const { store, window } = result;
  return {
    runId,
    storeId: store.id,
    dayFrom: window.fechaDesde,
    dayTo: window.fechaHasta,
    horaDesde: window.horaDesde,
    horaHasta: window.horaHasta,
  };
}

/**
 * Loads an answer and records its request in one transaction: both or neither. Made again whole it changes nothing
 * more (the load is an upsert), so a database lost under it can be waited for and the whole call repeated.
 */
export async function loadAnswer(db: Db, answer: WindowAnswer, options: LoadAnswerOptions): Promise<LoadCounts> {
  const { batch, info } = answer;
  const load = async (tx: Queryable, sent?: SentRows) => {
    const counts = await loadBatch(
      tx,
      batch,
      {
        runId: options.runId,
        wholeDays: isWholeDays(answer.window),
        mirror: options.mirror && info.proven && batch.isVerifiedComplete(info.totalRegistros),
        proven: info.proven,
      },
      sent,
    );
    await options.within?.(tx, counts);
    await recordRequest(tx, {
      ...requestOf(answer, options.runId),
      outcome: batch.received === 0 ? 'empty' : 'ok',
      lines: batch.received,
      durationMs: info.durationMs,
      loadMs: performance.now() - answer.receivedAt,
      attempts: info.attempts,
    });
    return counts;
  };
  // Finished in the transaction its rows streamed into; made again (a lost database), from the rows in hand.
  return answer.streamed?.finish(load) ?? db.transaction((tx) => load(tx));
}

/** Records a request KLK failed: a timeout as such (the planner sizes requests by them), anything else as failed. */
export async function recordFailure(db: Queryable, failure: WindowFailure, runId: number | null): Promise<void> {
  await recordRequest(db, {
    ...requestOf(failure, runId),
    outcome: failure.outcome,
    lines: 0,
    durationMs: failure.durationMs,
    attempts: failure.attempts,
    error: failure.message,
  });
}
