import { setTimeout as delay } from 'node:timers/promises';
import type { Config } from '../catalogue/config.ts';
import { CircuitBreaker } from '../backfill/breaker.ts';
import { CHUNK_RETRY, runClaimedChunk, type ChunkContext } from '../backfill/executor.ts';
import {
  chunkStanding,
  claimChunkById,
  getBackfill,
  ledgerTotals,
  releaseChunks,
  renewChunkLeases,
  type Chunk,
  type ChunkStanding,
} from '../backfill/ledger.ts';
import { finishQueuedBackfill, type BackfillSummary } from '../backfill/run.ts';
import { liveness } from '../db/liveness.ts';
import { watchDatabase, WORKER_RECONNECT } from '../db/reconnect.ts';
import type { Db } from '../db/types.ts';
import { isDatabaseLost } from '../shared/errors.ts';
import type { KlkClient } from '../klk/index.ts';
import type { Logger } from '../shared/logger.ts';
import { withSharedLimit, type KlkSlots } from './klk-slots.ts';
import type { ChunkJob, ChunkQueue } from './queue.ts';

export interface WorkerDeps {
  db: Db;
  queue: ChunkQueue;
  config: Config;
  /** This process's KLK client; every request also takes a slot of the limit shared by all workers. */
  klk: KlkClient;
  slots: KlkSlots;
  logger: Logger;
  /** Chunks in hand at once. */
  concurrency: number;
  /** How long a claimed chunk stays ours without renewal; renewed every third of it. */
  leaseMs: number;
  /** Attempts per chunk before it is marked failed, and the first pause before trying it again (doubles). */
  maxAttempts?: number;
  retryDelayMs?: number;
  breaker?: CircuitBreaker;
  /** Pause between looks at an empty queue. */
  pollMs?: number;
  onEvent?: (event: WorkerEvent) => void;
}

/** What became of a chunk this worker ran. */
export type ChunkOutcome = 'done' | 'split' | 'retry' | 'failed' | 'handed-back' | 'lost';

export type WorkerEvent =
  | { type: 'chunk'; chunk: Chunk; outcome: ChunkOutcome; lines: number }
  | { type: 'backfill-finished'; summary: BackfillSummary }
  /** The database is gone: the worker waits for it, looking again with growing pauses (once per outage). */
  | { type: 'database-lost'; detail: string }
  | { type: 'database-back'; downMs: number };

export interface WorkerStats {
  chunksDone: number;
  lines: number;
}

function outcomeOf(standing: ChunkStanding | null, handedBack: boolean): ChunkOutcome {
  switch (standing?.state) {
    case 'done':
      return 'done';
    case 'split':
      return 'split';
    case 'failed':
      return 'failed';
    case 'pending':
      return handedBack ? 'handed-back' : 'retry';
    default:
      // Running under someone else's lease: ours ran out before the load committed.
      return 'lost';
  }
}

/**
 * A worker of the distributed backfill: takes chunk jobs from the queue and runs each chunk exactly like the
 * in-process executor (runClaimedChunk: same ledger, leases, retries, halving and breaker), with the per-KLK limit
 * shared by all workers. `stop` aborted: takes no more jobs and returns once the chunks in hand are finished;
 * `abort` aborted: the chunks in hand go back to the ledger and the queue for another worker.
 */
export async function runWorker(
  deps: WorkerDeps,
  signals: { stop: AbortSignal; abort: AbortSignal },
): Promise<WorkerStats> {
  const { db, queue, config, logger, leaseMs } = deps;
  const { stop, abort } = signals;
  const stores = new Map(config.stores.map((s) => [s.id, s]));
  const breaker = deps.breaker ?? new CircuitBreaker();
  const stats: WorkerStats = { chunksDone: 0, lines: 0 };
  const backfills = new Map<number, { mirror: boolean; concurrency: number; maxAttempts?: number }>();
  // One lease owner per lane, so handing one chunk back never touches another lane's; all alive with this process.
  const live = await liveness(db);
  const owners = Array.from({ length: Math.max(1, deps.concurrency) }, () => live.owner());
  // A lost database is waited for as long as it takes (a PostgreSQL restart must not end a worker), by all lanes at
  // once, looking again after 1 s, 2 s, 4 s... up to 30 s; the wait ends when the worker does.
  const finished = new AbortController();
  const database = watchDatabase(db, {
    logger,
    patienceMs: WORKER_RECONNECT.patienceMs,
    firstDelayMs: WORKER_RECONNECT.firstDelayMs,
    maxDelayMs: WORKER_RECONNECT.maxDelayMs,
    signal: AbortSignal.any([abort, finished.signal]),
    onEvent: (event) =>
      deps.onEvent?.(
        event.state === 'lost'
          ? { type: 'database-lost', detail: event.detail }
          : { type: 'database-back', downMs: event.downMs },
      ),
  });

  async function backfillOf(id: number) {
    let known = backfills.get(id);
    if (!known) {
      const row = await getBackfill(db, id);
      // Every worker obeys the limit the backfill was queued with, whatever its own configuration says.
      known = {
        mirror: row?.params.mirror ?? false,
        concurrency: row?.params.concurrency ?? config.concurrency,
        maxAttempts: row?.params.maxAttempts,
      };
      backfills.set(id, known);
    }
    return known;
  }

  /**
   * Makes the queue match the ledger for a job's chunk, in one transaction: done or failed for good, the job ends;
   * split, its halves get jobs; still to run (a retry pause, or held under another worker's lease), the job comes
   * back when it may be claimed.
   */
  async function settle(job: ChunkJob): Promise<ChunkStanding | null> {
    return db.transaction(async (tx) => {
      const standing = await chunkStanding(tx, job.data.chunkId);
      await queue.complete(tx, job.id);
      // A cancelled backfill's chunks never run: their jobs just end.
      if (standing?.cancelled) return standing;
      if (standing?.state === 'split') {
        await queue.enqueue(
          tx,
          standing.children.map((chunkId) => ({ ...job.data, chunkId })),
        );
      } else if (standing?.state === 'pending' || standing?.state === 'running') {
        await queue.enqueue(tx, [job.data], { delaySeconds: standing.waitSeconds });
      }
      return standing;
    });
  }

  async function finishBackfillIfLast(job: ChunkJob): Promise<void> {
    const totals = await ledgerTotals(db, job.data.backfillId);
    if (totals.pending + totals.running > 0) return;
    const finished = await finishQueuedBackfill(db, config, job.data.backfillId, job.data.runId);
    if (finished?.concluded) deps.onEvent?.({ type: 'backfill-finished', summary: finished.summary });
  }

  async function handle(job: ChunkJob, owner: string): Promise<void> {
    const chunk = await claimChunkById(db, job.data.chunkId, owner, leaseMs);
    let lines = 0;
    let handedBack = false;
    if (chunk) {
      const backfill = await backfillOf(chunk.backfillId);
      const context: ChunkContext = {
        db,
        klk: withSharedLimit(deps.klk, deps.slots, backfill.concurrency),
        logger,
        stores,
        breaker,
        owner,
        maxAttempts: backfill.maxAttempts ?? deps.maxAttempts ?? CHUNK_RETRY.maxAttempts,
        retryDelayMs: deps.retryDelayMs ?? CHUNK_RETRY.retryDelayMs,
        mirror: backfill.mirror,
        runId: job.data.runId,
        signal: abort,
      };
      try {
        lines = await runClaimedChunk(context, chunk);
      } catch (error) {
        // Stopped mid-request, or the database failed under it: the chunk goes back untouched (once the database
        // answers again; the worker's second signal ends that wait, and the lease then hands the chunk on).
        if (!abort.aborted && !isDatabaseLost(error))
          logger.error({ chunk: chunk.id, err: (error as Error).message }, 'el bloque se devuelve tras un error');
        await database.retry(() => releaseChunks(db, owner), abort);
        handedBack = true;
      }
    }
    // Settling again is harmless (the job completed twice, a job that is waiting not queued twice): done even if the
    // database was lost on its commit.
    const standing = await database.retry(() => settle(job), abort);
    if (chunk) {
      const outcome = outcomeOf(standing, handedBack);
      if (outcome === 'done') {
        stats.chunksDone++;
        stats.lines += lines;
      }
      deps.onEvent?.({ type: 'chunk', chunk, outcome, lines });
    }
    // Its job is complete now: nothing would bring the backfill's conclusion back if this one were lost.
    if (standing?.state === 'done' || standing?.state === 'failed')
      await database.retry(() => finishBackfillIfLast(job), abort);
  }

  async function lane(owner: string): Promise<void> {
    const pollMs = deps.pollMs ?? 1_000;
    while (!stop.aborted) {
      let job: ChunkJob | null = null;
      try {
        job = await queue.fetch();
        if (job) await handle(job, owner);
      } catch (error) {
        // The job stays active and expires back into the queue; this lane carries on after a pause. With the database
        // gone, the pause lasts until it answers (said once for all lanes), and then what this lane held goes back to
        // the ledger: a claim whose answer was lost may have been made.
        if (isDatabaseLost(error)) {
          logger.debug(
            { job: job?.id, err: error.detail },
            'trabajo de la cola interrumpido: la base de datos no responde',
          );
          await database.retry(() => releaseChunks(db, owner), stop).catch(() => undefined);
        } else {
          logger.error({ job: job?.id, err: (error as Error).message }, 'error al atender un trabajo de la cola');
          await releaseChunks(db, owner).catch(() => undefined);
        }
        if (abort.aborted) return;
        job = null;
      }
      if (!job) await delay(pollMs / 2 + Math.random() * pollMs, undefined, { signal: stop }).catch(() => undefined);
    }
  }

  const renewal = setInterval(() => {
    for (const owner of owners) void renewChunkLeases(db, owner, leaseMs).catch(() => undefined);
  }, leaseMs / 3);
  try {
    await Promise.all(owners.map(lane));
  } finally {
    clearInterval(renewal);
    finished.abort();
  }
  return stats;
}
