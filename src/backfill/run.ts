import type { Config } from '../catalogue/config.ts';
import type { Store } from '../catalogue/stores.ts';
import { computeCoverage, type CoverageReport, type CoverageTotals } from '../coverage/index.ts';
import type { Db, Queryable } from '../db/types.ts';
import type { KlkClient } from '../klk/index.ts';
import { planForReport } from './evidence.ts';
import { planChunks, toPlanJson, type PlanJson } from '../plan/index.ts';
import type { IsoDate } from '../shared/dates.ts';
import { COMMAND_PATIENCE_MS, watchDatabase, type DatabaseEvent } from '../db/reconnect.ts';
import { databaseLostDuring, isDatabaseLost, UsageError } from '../shared/errors.ts';
import { resumeCommand } from '../runs/ref.ts';
import type { Logger } from '../shared/logger.ts';
import { activityOf, backfillActivity, effectiveStatus } from '../runs/status.ts';
import { chooseBackfillToResume, type ResumeTarget } from '../runs/resume.ts';
import { finishRun, runStartedAt, startRun } from '../sync/runs.ts';
import { CircuitBreaker, type BreakerState } from './breaker.ts';
import { executeBackfill } from './executor.ts';
import {
  backfillStatus,
  createBackfill,
  finishBackfill,
  getBackfill,
  ledgerTotals,
  lockBackfill,
  remainingChunks,
  reopenBackfill,
  retryFailedChunks,
  runStoreResults,
  type BackfillParams,
  type BackfillRow,
  type LedgerTotals,
  type RemainingChunk,
} from './ledger.ts';

export interface BackfillJob {
  from: IsoDate;
  to: IsoDate;
  stores: Store[];
  /** A plan made earlier (`ventas plan --format json`), instead of planning now. */
  plan?: PlanJson;
  /**
   * Finish a backfill instead of starting one: `true` the newest resumable one, or the one `ResumeTarget` names (by id,
   * or by the window and stores it was started with).
   */
  resume?: boolean | ResumeTarget;
  mirror?: boolean;
  dryRun?: boolean;
  concurrency: number;
}

/** What a backfill did, before and after: its JSON summary (`summaryJson`) plus the backfill's id. */
export interface BackfillSummary {
  /**
   * `interrupted`: stopped by a signal with work left, resumable; `cancelled`: a person cancelled it while it ran
   * (`ventas runs cancel`), its pending chunks left for good.
   */
  status: 'complete' | 'partial' | 'failed' | 'interrupted' | 'cancelled';
  chunks: { total: number; done: number; failed: number };
  storeDays: number;
  rowsInserted: number;
  rowsUpdated: number;
  rowsDeleted: number;
  duplicatesInSource: number;
  quarantined: number;
  seconds: number;
  before: CoverageTotals;
  after: CoverageTotals;
  backfillId: number;
}

export interface BackfillDeps {
  db: Db;
  config: Config;
  klk: KlkClient;
  logger: Logger;
  onStart?: (info: {
    backfillId: number;
    plan: PlanJson | null;
    before: CoverageReport | null;
    resumed: boolean;
  }) => void;
  onProgress?: (totals: LedgerTotals & { lines: number }) => void;
  onBreaker?: (state: BreakerState) => void;
  /** Aborted: requests in flight are abandoned, their chunks given back untouched; the run ends `interrupted`. */
  signal?: AbortSignal;
  /** Aborted: no more chunks are started, those in flight finish; the run ends `interrupted` if work is left. */
  stop?: AbortSignal;
  /** Per-chunk attempts and retry pause (tests shorten them). */
  maxAttempts?: number;
  retryDelayMs?: number;
  breakerCooldownMs?: number;
  /** How long KLK may fail without a success before the run gives up, resumable (default 15 minutes). */
  giveUpAfterMs?: number;
  /** How long after the first request KLK may go without answering at all before the run gives up (default 30 s). */
  firstAnswerMs?: number;
  /** How long the run waits in all for a lost database before it stops, resumable, with exit 3 (default 10 s). */
  databasePatienceMs?: number;
  /** The database was lost (the run waits for it up to its patience), or answers again. */
  onDatabase?: (event: DatabaseEvent) => void;
}

/** What `--resume --dry-run` shows: the backfill a resume would take up, and its chunks still to do. */
export interface ResumePreview {
  backfillId: number;
  status: BackfillRow['status'];
  params: BackfillParams;
  totals: LedgerTotals;
  remaining: RemainingChunk[];
}

export interface BackfillOutcome {
  /** null for a dry run. */
  summary: BackfillSummary | null;
  plan: PlanJson | null;
  before: CoverageReport | null;
  after: CoverageReport | null;
  /** A dry run of `--resume`: what it would take up. */
  resumePreview?: ResumePreview;
}

type DryRun =
  | { kind: 'dry-run'; plan: PlanJson; beforeReport: CoverageReport }
  | { kind: 'resume-preview'; preview: ResumePreview };

/** What the ledger of a backfill was written (or picked up to resume) with. */
interface PreparedBackfill {
  kind: 'ledger';
  backfillId: number;
  scope: { from: IsoDate; to: IsoDate; stores: Store[] };
  mirror: boolean;
  plan: PlanJson | null;
  beforeReport: CoverageReport | null;
  before: CoverageTotals;
}

/**
 * Plans (or takes a plan, or picks the newest unfinished backfill to resume) and writes the ledger. A dry run returns
 * what it decided before the first write: the plan, or the backfill a resume would take up and its chunks left.
 * `inLedger` runs in the transaction that writes the ledger (the queue puts the chunks on it there).
 */
async function prepareBackfill(
  deps: Pick<BackfillDeps, 'db' | 'config' | 'logger'>,
  job: BackfillJob,
  inLedger?: (tx: Queryable, backfillId: number) => Promise<void>,
): Promise<PreparedBackfill | DryRun> {
  const { db, config, logger } = deps;
  if (job.resume) {
    const pending = await chooseBackfillToResume(db, job.resume === true ? {} : job.resume);
    if (job.dryRun) {
      const [totals, remaining, activity] = await Promise.all([
        ledgerTotals(db, pending.id),
        remainingChunks(db, pending.id),
        backfillActivity(db, [pending.id]),
      ]);
      const status = effectiveStatus(pending.status, activityOf(activity, pending.id));
      return {
        kind: 'resume-preview',
        preview: { backfillId: pending.id, status, params: pending.params, totals, remaining },
      };
    }
    const byId = new Map(config.stores.map((s) => [s.id, s]));
    const retried = await db.transaction(async (tx) => {
      if (!(await reopenBackfill(tx, pending.id)))
        throw new UsageError(`el backfill #${pending.id} terminó o se canceló mientras se preparaba su reanudación`);
      const n = await retryFailedChunks(tx, pending.id);
      await inLedger?.(tx, pending.id);
      return n;
    });
    logger.info({ backfillId: pending.id, retried }, 'se reanuda el backfill');
    return {
      kind: 'ledger',
      backfillId: pending.id,
      scope: {
        from: pending.params.from,
        to: pending.params.to,
        stores: pending.params.stores.flatMap((id) => byId.get(id) ?? []),
      },
      mirror: pending.params.mirror,
      plan: null,
      beforeReport: null,
      before: pending.params.before as CoverageTotals,
    };
  }
  const scope = { from: job.from, to: job.to, stores: job.stores };
  const beforeReport = await computeCoverage(db, config, scope);
  let plan: PlanJson;
  if (job.plan) {
    plan = job.plan;
  } else {
    plan = toPlanJson(await planForReport(db, beforeReport, { config, concurrency: job.concurrency }));
  }
  if (job.dryRun) return { kind: 'dry-run', plan, beforeReport };
  const mirror = job.mirror ?? false;
  const chunks = planChunks(plan);
  const params = {
    from: scope.from,
    to: scope.to,
    stores: scope.stores.map((s) => s.id),
    mirror,
    concurrency: job.concurrency,
    before: beforeReport.totals,
  };
  const backfillId = await db.transaction(async (tx) => {
    const id = await createBackfill(tx, params, chunks);
    await inLedger?.(tx, id);
    return id;
  });
  return { kind: 'ledger', backfillId, scope, mirror, plan, beforeReport, before: beforeReport.totals };
}

/** Coverage after, the summary from the ledger, and the backfill and its run marked finished. */
async function concludeBackfill(
  db: Queryable,
  config: Config,
  done: {
    backfillId: number;
    runId: number | null;
    scope: PreparedBackfill['scope'];
    before: CoverageTotals;
    seconds: number;
    fatal: unknown;
    /** Stopped by its caller (a signal): with work left it is `interrupted`, not a failure. */
    interrupted?: boolean;
  },
): Promise<{ summary: BackfillSummary; afterReport: CoverageReport }> {
  const { backfillId, runId, fatal } = done;
  const totals = await ledgerTotals(db, backfillId);
  const afterReport = await computeCoverage(db, config, done.scope);
  const cancelled = (await backfillStatus(db, backfillId)) === 'cancelled';
  const left = totals.pending + totals.running > 0;
  const status: BackfillSummary['status'] = cancelled
    ? 'cancelled'
    : totals.failed === 0 && !left
      ? 'complete'
      : done.interrupted && left
        ? 'interrupted'
        : totals.done > 0
          ? 'partial'
          : 'failed';
  const summary: BackfillSummary = {
    status,
    chunks: { total: totals.total, done: totals.done, failed: totals.failed },
    storeDays: totals.storeDays,
    rowsInserted: totals.inserted,
    rowsUpdated: totals.updated,
    rowsDeleted: totals.deleted,
    duplicatesInSource: totals.duplicates,
    quarantined: totals.quarantined,
    seconds: Math.round(done.seconds * 10) / 10,
    before: done.before,
    after: afterReport.totals,
    backfillId,
  };
  // A run that stopped on an error is failed even with some chunks done (the summary keeps what the ledger says).
  await finishBackfill(db, backfillId, fatal && status === 'partial' ? 'failed' : status, summary);
  if (runId !== null) {
    const results = await runStoreResults(db, backfillId, await runStartedAt(db, runId));
    const runStatus = (
      {
        complete: 'success',
        partial: 'partial',
        failed: 'failed',
        interrupted: 'interrupted',
        cancelled: 'cancelled',
      } as const
    )[status];
    await finishRun(db, runId, runStatus, results, fatal ? String((fatal as Error).message) : null);
  }
  return { summary, afterReport };
}

/** Plans (or takes a plan, or resumes), writes the ledger, executes it, and measures coverage before and after. */
export async function runBackfill(deps: BackfillDeps, job: BackfillJob): Promise<BackfillOutcome> {
  const started = performance.now();
  const prepared = await prepareBackfill(deps, job);
  if (prepared.kind === 'dry-run')
    return { summary: null, plan: prepared.plan, before: prepared.beforeReport, after: null };
  if (prepared.kind === 'resume-preview')
    return { summary: null, plan: null, before: null, after: null, resumePreview: prepared.preview };
  try {
    return await executePrepared(deps, job, prepared, started);
  } catch (error) {
    // From here on the backfill's ledger holds its progress: a lost database says how to pick it up again.
    if (!isDatabaseLost(error)) throw error;
    throw databaseLostDuring(
      error,
      `el backfill #${prepared.backfillId}`,
      `reanude con: ${resumeCommand(prepared.backfillId)}`,
    );
  }
}

/** Runs a backfill whose ledger is written: its run record, the executor, and its conclusion. */
async function executePrepared(
  deps: BackfillDeps,
  job: BackfillJob,
  prepared: PreparedBackfill,
  started: number,
): Promise<BackfillOutcome> {
  const { db, config, logger } = deps;
  const { backfillId, scope, mirror, plan } = prepared;
  deps.onStart?.({ backfillId, plan, before: prepared.beforeReport, resumed: Boolean(job.resume) });
  const database = watchDatabase(db, {
    logger,
    patienceMs: deps.databasePatienceMs ?? COMMAND_PATIENCE_MS,
    onEvent: deps.onDatabase,
  });

  const runId = await startRun(db, {
    type: 'backfill',
    window: { from: `${scope.from} 00:00:00`, to: `${scope.to} 23:59:59` },
    stores: scope.stores.map((s) => s.id),
    command: `backfill #${backfillId}${job.resume ? ' (reanudado)' : ''}`,
  });
  const breaker = new CircuitBreaker({
    cooldownMs: deps.breakerCooldownMs,
    onChange: (state, info) => {
      deps.onBreaker?.(state);
      if (state === 'open')
        logger.warn(
          { cooldownMs: info.cooldownMs },
          'KLK falla seguido: peticiones en pausa hasta que una prueba pase',
        );
      if (state === 'closed') logger.info('KLK responde de nuevo: se reanudan las peticiones');
    },
  });
  let fatal: unknown = null;
  try {
    await executeBackfill(
      {
        db,
        klk: deps.klk,
        logger,
        stores: new Map(config.stores.map((s) => [s.id, s])),
        concurrency: job.concurrency,
        breaker,
        maxAttempts: deps.maxAttempts,
        retryDelayMs: deps.retryDelayMs,
        giveUpAfterMs: deps.giveUpAfterMs,
        firstAnswerMs: deps.firstAnswerMs,
        onProgress: deps.onProgress,
        signal: deps.signal,
        stop: deps.stop,
        runId,
        database,
      },
      backfillId,
      { mirror },
    );
  } catch (error) {
    fatal = error;
  }
  // Stopped by its caller: what it was stopped with is no failure (a database or KLK that failed meanwhile still is).
  const interrupted = Boolean(deps.stop?.aborted || deps.signal?.aborted);
  if (interrupted && fatal === deps.signal?.reason) fatal = null;

  const seconds = (performance.now() - started) / 1000;
  let concluded: Awaited<ReturnType<typeof concludeBackfill>>;
  try {
    // Each of its writes may be made twice: a database that comes back within the patience still gets the summary
    // (a second Ctrl-C does not wait for it).
    concluded = await database.retry(
      () =>
        concludeBackfill(db, config, {
          backfillId,
          runId,
          scope,
          before: prepared.before,
          seconds,
          fatal,
          interrupted,
        }),
      deps.signal,
    );
  } catch (error) {
    // The database that failed the run may fail its conclusion too: the first cause is the one to report.
    throw fatal ?? error;
  }
  const { summary, afterReport } = concluded;
  if (fatal) throw fatal;
  return { summary, plan, before: prepared.beforeReport, after: afterReport };
}

// --- The distributed backfill: the same ledger, its chunks run by `ventas worker` processes. ---

export interface QueuedBackfill {
  /** null for a dry run. */
  queued: { backfillId: number; runId: number; resumed: boolean } | null;
  plan: PlanJson | null;
  before: CoverageReport | null;
  /** A dry run of `--resume`: what it would put on the queue. */
  resumePreview?: ResumePreview;
}

/**
 * `ventas backfill --queue`: plans (or resumes) and writes the ledger like runBackfill, then, in the same
 * transaction, starts its run record and hands the unfinished chunks to `enqueue` instead of executing them.
 */
export async function queueBackfill(
  deps: Pick<BackfillDeps, 'db' | 'config' | 'logger'>,
  job: BackfillJob,
  enqueue: (tx: Queryable, ledger: { backfillId: number; runId: number }) => Promise<void>,
): Promise<QueuedBackfill> {
  let runId = 0;
  const prepared = await prepareBackfill(deps, job, async (tx, backfillId) => {
    const { params } = (await getBackfill(tx, backfillId))!;
    runId = await startRun(tx, {
      type: 'backfill',
      window: { from: `${params.from} 00:00:00`, to: `${params.to} 23:59:59` },
      stores: params.stores,
      command: `backfill #${backfillId} en cola${job.resume ? ' (reanudado)' : ''}`,
    });
    await enqueue(tx, { backfillId, runId });
  });
  if (prepared.kind === 'dry-run') return { queued: null, plan: prepared.plan, before: prepared.beforeReport };
  if (prepared.kind === 'resume-preview')
    return { queued: null, plan: null, before: null, resumePreview: prepared.preview };
  // Nothing to hand to the workers (a plan with no steps): no worker would ever conclude it, so it ends here.
  await finishQueuedBackfill(deps.db, deps.config, prepared.backfillId, runId);
  return {
    queued: { backfillId: prepared.backfillId, runId, resumed: Boolean(job.resume) },
    plan: prepared.plan,
    before: prepared.beforeReport,
  };
}

/**
 * Finishes a queued backfill once none of its chunks is pending or running: the same summary as runBackfill, written
 * once (the last worker and `--wait` may both get here; `concluded` says who did). Null while work remains.
 */
export async function finishQueuedBackfill(
  db: Db,
  config: Config,
  backfillId: number,
  runId: number | null,
): Promise<{ summary: BackfillSummary; concluded: boolean } | null> {
  return db.transaction(async (tx) => {
    const row = await lockBackfill(tx, backfillId, runId === null ? null : await runStartedAt(tx, runId));
    if (!row) return null;
    const stored = row.summary as BackfillSummary | null;
    // Cancelled: its pending chunks will never run, so it ends now (unless its summary was already written).
    const cancelled = row.status === 'cancelled' && !stored;
    if (row.status !== 'running' && !cancelled) return stored && { summary: stored, concluded: false };
    const totals = await ledgerTotals(tx, backfillId);
    if (!cancelled && totals.pending + totals.running > 0) return null;
    const byId = new Map(config.stores.map((s) => [s.id, s]));
    const scope = {
      from: row.params.from,
      to: row.params.to,
      stores: row.params.stores.flatMap((id) => byId.get(id) ?? []),
    };
    const before = row.params.before as CoverageTotals;
    const { summary } = await concludeBackfill(tx, config, {
      backfillId,
      runId,
      scope,
      before,
      seconds: row.seconds,
      fatal: null,
    });
    return { summary, concluded: true };
  });
}

export { getBackfill };
