import { setTimeout as delay } from 'node:timers/promises';
import type { Store } from '../catalogue/stores.ts';
import { liveness } from '../db/liveness.ts';
import type { Db } from '../db/types.ts';
import {
  fetchWindow,
  loadAnswer,
  recordFailure,
  type KlkWatch,
  type WindowFailure,
  type WindowResult,
} from '../extract/index.ts';
import type { KlkClient, KlkWindow } from '../klk/index.ts';
import { COMMAND_PATIENCE_MS, COMMAND_RECONNECT, DatabaseWatch } from '../db/reconnect.ts';
import { isDatabaseLost, UnreachableError } from '../shared/errors.ts';
import { seconds } from '../shared/format.ts';
import type { Logger } from '../shared/logger.ts';
import { resumeCommand } from '../runs/ref.ts';
import { CircuitBreaker } from './breaker.ts';
import {
  backfillStatus,
  claimChunk,
  completeChunk,
  failChunk,
  goneChunkOwners,
  ledgerTotals,
  releaseChunk,
  releaseChunks,
  renewChunkLeases,
  splitChunk,
  type Chunk,
  type LedgerTotals,
} from './ledger.ts';

export interface ExecutorDeps {
  db: Db;
  klk: KlkClient;
  logger: Logger;
  stores: ReadonlyMap<string, Store>;
  /** Requests in flight per KLK; the executor keeps twice as many chunks going so loading overlaps fetching. */
  concurrency: number;
  breaker?: CircuitBreaker;
  /** How long a claimed chunk stays ours without renewal (default 2 minutes). */
  leaseMs?: number;
  /** Attempts per chunk before it is marked failed. */
  maxAttempts?: number;
  /** Pause before a failed chunk is tried again (doubles per attempt). */
  retryDelayMs?: number;
  onProgress?: (totals: LedgerTotals & { lines: number }) => void;
  /** Aborted: requests in flight are abandoned and their chunks given back untouched (a second Ctrl-C). */
  signal?: AbortSignal;
  /** Aborted: no chunk is claimed any more; those in flight finish, those still waiting to be sent go back (Ctrl-C). */
  stop?: AbortSignal;
  /** The run history row the loads are recorded under. */
  runId?: number | null;
  /** Give up once KLK has failed without a single success for this long (default 15 minutes): exit 3, resumable. */
  giveUpAfterMs?: number;
  /**
   * Give up once this long has passed since the first request without a single answer from KLK, even an error
   * status (default 30 s): a KLK that is not there at all (wrong URL, dead port) is exit 3 at once, not after the
   * long patience above, which is for a KLK that answered and now fails.
   */
  firstAnswerMs?: number;
  /**
   * Waits out a lost database (shared with the caller's other work): the run carries on once it answers again, and
   * stops with the database's error once the watch's patience is spent. Default: 10 s of patience.
   */
  database?: DatabaseWatch;
}

/** A failed chunk's attempts before it is marked failed, and the pause before its retry (doubling per attempt). */
export const CHUNK_RETRY = { maxAttempts: 8, retryDelayMs: 1_000 } as const;

/** How often a running backfill reads its ledger to report progress. */
const PROGRESS_EVERY_MS = 250;

class LeaseLost extends Error {}

/** KLK failed the chunk's request: thrown through the breaker so it counts, then handled as the failure it is. */
class KlkFailed extends Error {
  constructor(readonly failure: WindowFailure) {
    super(failure.message);
  }
}

/** The window is too big for KLK's time limit (it is halved): not a word on KLK's health. */
class WindowTooBig extends KlkFailed {}

/** What running one claimed chunk needs: the same for the in-process executor and a queue worker. */
export interface ChunkContext {
  db: Db;
  klk: KlkClient;
  logger: Logger;
  stores: ReadonlyMap<string, Store>;
  breaker: CircuitBreaker;
  owner: string;
  maxAttempts: number;
  retryDelayMs: number;
  mirror: boolean;
  runId?: number | null;
  signal?: AbortSignal;
  /** Aborted while the chunk still waits for the breaker: it goes back to the ledger unsent. */
  stop?: AbortSignal;
  /** Told when a request goes to KLK and when KLK answers it (any HTTP answer, an error status included). */
  klkWatch?: KlkWatch;
}

/**
 * Runs one claimed chunk: one whole-day request, then the load and the chunk's completion in one transaction.
 * A timeout halves a multi-day chunk; other failures give it back with a pause, or fail it once out of attempts.
 * Returns the lines received (0 when nothing was loaded).
 */
export async function runClaimedChunk(ctx: ChunkContext, chunk: Chunk): Promise<number> {
  const { db, logger, breaker, owner, maxAttempts, retryDelayMs, mirror } = ctx;
  const store = ctx.stores.get(chunk.storeId);
  const window: KlkWindow = { fechaDesde: chunk.dayFrom, fechaHasta: chunk.dayTo };
  if (!store) {
    await failChunk(db, chunk.id, owner, `tienda desconocida en el catálogo: ${chunk.storeId}`, {
      final: true,
      retryInMs: 0,
    });
    return 0;
  }
  let sent = false;
  let answer: WindowResult;
  try {
    answer = await breaker.execute(
      async (kind) => {
        sent = true;
        // Stopped mid-request, or the database lost while taking a shared KLK slot: thrown, the chunk goes back untouched.
        const result = await fetchWindow(ctx.klk, store, window, {
          attempts: kind === 'probe' ? 1 : undefined,
          signal: ctx.signal,
          watch: ctx.klkWatch,
          streamInto: db,
        });
        // A failure tells the breaker KLK is failing, unless it only says the window is too big for KLK's time limit.
        if (!result.ok) throw result.halves ? new WindowTooBig(result) : new KlkFailed(result);
        return result;
      },
      {
        signal: ctx.stop && ctx.signal ? AbortSignal.any([ctx.signal, ctx.stop]) : (ctx.stop ?? ctx.signal),
        // No word on KLK's health (the breaker is left as it was; a probe ending so closes it).
        notKlkFailure: (error) =>
          error instanceof WindowTooBig || Boolean(ctx.signal?.aborted) || isDatabaseLost(error),
      },
    );
  } catch (error) {
    if (error instanceof KlkFailed || error instanceof WindowTooBig) {
      answer = error.failure;
    } else {
      // Stopped while waiting for the breaker: the chunk goes back to the ledger unsent.
      if (sent || ctx.signal?.aborted || !ctx.stop?.aborted) throw error;
      await releaseChunk(db, chunk.id, owner);
      return 0;
    }
  }
  if (!answer.ok) {
    await recordFailure(db, answer, ctx.runId ?? null);
    const { halves } = answer;
    if (halves) {
      logger.warn({ chunk: chunk.id, store: store.id, window }, 'tiempo agotado: el bloque se divide en dos');
      await db.transaction((tx) =>
        splitChunk(
          tx,
          chunk,
          owner,
          halves.map((h) => ({ dayFrom: h.fechaDesde, dayTo: h.fechaHasta })),
        ),
      );
      return 0;
    }
    const final = chunk.attempts >= maxAttempts;
    logger.warn(
      { chunk: chunk.id, store: store.id, window, attempt: chunk.attempts, final, err: answer.message },
      'bloque fallido',
    );
    await failChunk(db, chunk.id, owner, answer.message, {
      final,
      retryInMs: retryDelayMs * 2 ** Math.min(chunk.attempts - 1, 6),
    });
    return 0;
  }
  const { batch } = answer;
  try {
    // The chunk is completed with its load and its request: one commit, all three or none.
    await loadAnswer(db, answer, {
      runId: ctx.runId ?? null,
      mirror,
      within: async (tx, counts) => {
        const ours = await completeChunk(tx, chunk.id, owner, {
          lines: batch.received,
          inserted: counts.inserted,
          updated: counts.updated,
          deleted: counts.deleted,
          duplicates: batch.duplicates,
          quarantined: counts.quarantined,
        });
        if (!ours) throw new LeaseLost(`el bloque ${chunk.id} pasó a otro proceso`);
      },
    });
  } catch (error) {
    if (error instanceof LeaseLost) {
      logger.warn({ chunk: chunk.id }, error.message);
      return 0;
    }
    // A database that is gone, or a caller that stopped, ends the run; a load this answer cannot pass (a constraint
    // of an adopted table...) costs the chunk an attempt like any failure, instead of coming back forever.
    if (error instanceof UnreachableError || ctx.signal?.aborted) throw error;
    const message = (error as Error).message;
    const final = chunk.attempts >= maxAttempts;
    logger.error(
      { chunk: chunk.id, store: store.id, window, attempt: chunk.attempts, final, err: message },
      'carga del bloque fallida',
    );
    await failChunk(db, chunk.id, owner, `carga fallida: ${message}`, {
      final,
      retryInMs: retryDelayMs * 2 ** Math.min(chunk.attempts - 1, 6),
    });
    return 0;
  }
  return batch.received;
}

/** Calls `expired` once `limitMs` have passed since the first request went out, unless KLK answered one by then. */
function firstAnswerDeadline(limitMs: number, expired: (limitMs: number) => void) {
  let timer: NodeJS.Timeout | undefined;
  let answered = false;
  return {
    requestSent() {
      if (!answered && !timer) timer = setTimeout(() => expired(limitMs), limitMs);
    },
    answered() {
      answered = true;
      clearTimeout(timer);
    },
    clear() {
      clearTimeout(timer);
    },
  };
}

/**
 * Runs the ledger of one backfill to the end: claims chunks, fetches each as one whole-day request, loads it and
 * marks it done in one transaction, retries failures with a pause, halves a chunk that times out, and stops asking
 * a failing KLK (breaker) until a probe gets through.
 */
export async function executeBackfill(
  deps: ExecutorDeps,
  backfillId: number,
  options: { mirror: boolean },
): Promise<LedgerTotals> {
  const { db, logger } = deps;
  const owner = (await liveness(db)).owner();
  const leaseMs = deps.leaseMs ?? 120_000;
  const maxAttempts = deps.maxAttempts ?? CHUNK_RETRY.maxAttempts;
  const retryDelayMs = deps.retryDelayMs ?? CHUNK_RETRY.retryDelayMs;
  const breaker = deps.breaker ?? new CircuitBreaker();
  const database = deps.database ?? new DatabaseWatch(db, { patienceMs: COMMAND_PATIENCE_MS, ...COMMAND_RECONNECT });
  const deadOwners = await goneChunkOwners(db, backfillId);
  if (deadOwners.length > 0) logger.info({ deadOwners }, 'se retoman bloques de un proceso terminado');

  let lines = 0;
  // Progress reads the whole ledger: at most a few times a second, not after every chunk (on one embedded database
  // the reads would queue behind the loads); the end is always reported.
  let lastReport = -Infinity;
  const report = async () => {
    if (!deps.onProgress || performance.now() - lastReport < PROGRESS_EVERY_MS) return;
    lastReport = performance.now();
    deps.onProgress({ ...(await ledgerTotals(db, backfillId)), lines });
  };
  await report();
  const giveUpAfterMs = deps.giveUpAfterMs ?? 15 * 60_000;
  // The first loop that fails halts the others, so nothing claims or writes after the chunks are given back. One
  // controller per round: a round halted by a lost database is followed by another once it answers again.
  let halt = new AbortController();
  let klkGaveUp: UnreachableError | null = null;
  const klkWatch = firstAnswerDeadline(deps.firstAnswerMs ?? 30_000, (ms) => {
    klkGaveUp = new UnreachableError(
      `KLK no ha respondido a ninguna petición en ${seconds(ms)}: el backfill #${backfillId} se detiene con lo pendiente guardado. ` +
        `Reanude con: ${resumeCommand(backfillId)}`,
      'klk',
    );
    halt.abort(klkGaveUp);
  });
  const stopped = () => deps.stop?.aborted ?? false;
  const quit = [deps.stop, deps.signal].filter((s): s is AbortSignal => s !== undefined);
  const renewal = setInterval(() => void renewChunkLeases(db, owner, leaseMs).catch(() => {}), leaseMs / 3);

  const loop = async (context: ChunkContext, signal: AbortSignal) => {
    for (;;) {
      signal.throwIfAborted();
      if (stopped()) return;
      const down = breaker.failingForMs();
      if (down > giveUpAfterMs) {
        throw new UnreachableError(
          `KLK no responde desde hace ${seconds(down)}: el backfill #${backfillId} se detiene con lo pendiente guardado. ` +
            `Reanude con: ${resumeCommand(backfillId)}`,
          'klk',
        );
      }
      const chunk = await claimChunk(db, backfillId, owner, leaseMs);
      if (!chunk) {
        const totals = await ledgerTotals(db, backfillId);
        // Chunks waiting out a retry pause, or still running under another live process's lease (a worker, another
        // run), are not finished: wait for them (should that process die, the next claim takes them back).
        if (totals.pending === 0 && totals.running === 0) return;
        // Cancelled by a person (`ventas runs cancel`): claims hand out nothing more, so this loop is done.
        if ((await backfillStatus(db, backfillId)) === 'cancelled') return;
        await delay(200, undefined, { signal: deps.stop }).catch(() => undefined);
        continue;
      }
      // Not `lines += await ...`: that reads `lines` before the await and loses the other loops' additions.
      const received = await runClaimedChunk(context, chunk);
      lines += received;
      await report();
    }
  };

  try {
    for (;;) {
      halt = new AbortController();
      if (klkGaveUp) throw klkGaveUp;
      const signal = deps.signal ? AbortSignal.any([deps.signal, halt.signal]) : halt.signal;
      const context: ChunkContext = {
        ...deps,
        breaker,
        owner,
        maxAttempts,
        retryDelayMs,
        mirror: options.mirror,
        signal,
        klkWatch,
      };
      const outcomes = await Promise.allSettled(
        Array.from({ length: Math.max(1, deps.concurrency * 2) }, () =>
          loop(context, signal).catch((error: unknown) => {
            halt.abort(error);
            throw error;
          }),
        ),
      );
      const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
      if (!failed) break;
      // The caller's own abort is the reason to report, not the loops that saw it.
      const reason: unknown = deps.signal?.aborted ? deps.signal.reason : (halt.signal.reason ?? failed.reason);
      // A database that went away and answers again within its patience: what this round held goes back to the
      // ledger (its attempts not spent) and the next round claims afresh. A run being stopped does not wait for it.
      if (
        isDatabaseLost(reason) &&
        !stopped() &&
        (await database.back(reason, quit.length > 0 ? AbortSignal.any(quit) : undefined))
      ) {
        await database.retry(() => releaseChunks(db, owner));
        logger.info({ backfillId }, 'la base de datos responde de nuevo: el backfill sigue');
        continue;
      }
      // Stopped early: whatever we hold goes back to the ledger for --resume or another worker.
      await releaseChunks(db, owner).catch(() => {});
      throw isDatabaseLost(reason) ? (database.lost ?? reason) : reason;
    }
  } finally {
    clearInterval(renewal);
    klkWatch.clear();
  }
  const totals = await database.retry(() => ledgerTotals(db, backfillId));
  deps.onProgress?.({ ...totals, lines });
  return totals;
}
