import type { Config } from '../catalogue/config.ts';
import type { Store } from '../catalogue/stores.ts';
import { computeCoverage, type CoverageReport, type CoverageTotals } from '../coverage/index.ts';
import type { Db } from '../db/types.ts';
import type { KlkClient } from '../klk/index.ts';
import { planFromCoverage } from '../plan/from-coverage.ts';
import { planChunks, toPlanJson, type PlanJson } from '../plan/index.ts';
import { fitTiming, readTimingSamples } from '../plan/timing.ts';
import type { IsoDate } from '../shared/dates.ts';
import { UsageError } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import { finishRun, startRun } from '../sync/runs.ts';
import { CircuitBreaker, type BreakerState } from './breaker.ts';
import { executeBackfill } from './executor.ts';
import {
  createBackfill,
  finishBackfill,
  getBackfill,
  latestUnfinished,
  ledgerTotals,
  retryFailedChunks,
  type LedgerTotals,
} from './ledger.ts';

export interface BackfillJob {
  from: IsoDate;
  to: IsoDate;
  stores: Store[];
  /** A plan made earlier (`ventas plan --format json`), instead of planning now. */
  plan?: PlanJson;
  /** Finish the newest unfinished backfill instead of starting one. */
  resume?: boolean;
  mirror?: boolean;
  dryRun?: boolean;
  concurrency: number;
}

/** The JSON of spec section 6, plus the backfill's id. */
export interface BackfillSummary {
  status: 'complete' | 'partial' | 'failed';
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
  onStart?: (info: { backfillId: number; plan: PlanJson | null; before: CoverageReport | null; resumed: boolean }) => void;
  onProgress?: (totals: LedgerTotals & { lines: number }) => void;
  onBreaker?: (state: BreakerState) => void;
  signal?: AbortSignal;
  /** Per-chunk attempts and retry pause (tests shorten them). */
  maxAttempts?: number;
  retryDelayMs?: number;
  breakerCooldownMs?: number;
}

export interface BackfillOutcome {
  summary: BackfillSummary | null;
  plan: PlanJson | null;
  before: CoverageReport | null;
  after: CoverageReport | null;
}

/** Plans (or takes a plan, or resumes), writes the ledger, executes it, and measures coverage before and after. */
export async function runBackfill(deps: BackfillDeps, job: BackfillJob): Promise<BackfillOutcome> {
  const { db, config, logger } = deps;
  const started = performance.now();
  let backfillId: number;
  let scope = { from: job.from, to: job.to, stores: job.stores };
  let mirror = job.mirror ?? false;
  let plan: PlanJson | null = null;
  let beforeReport: CoverageReport | null = null;
  let before: CoverageTotals;

  if (job.resume) {
    const pending = await latestUnfinished(db);
    if (!pending) throw new UsageError('no hay ningún backfill sin terminar que reanudar');
    backfillId = pending.id;
    const byId = new Map(config.stores.map((s) => [s.id, s]));
    scope = { from: pending.params.from, to: pending.params.to, stores: pending.params.stores.flatMap((id) => byId.get(id) ?? []) };
    mirror = pending.params.mirror;
    before = pending.params.before as CoverageTotals;
    const retried = await retryFailedChunks(db, backfillId);
    logger.info({ backfillId, retried }, 'se reanuda el backfill');
  } else {
    beforeReport = await computeCoverage(db, config, scope);
    before = beforeReport.totals;
    if (job.plan) {
      plan = job.plan;
    } else {
      const timing = fitTiming(await readTimingSamples(db));
      plan = toPlanJson(planFromCoverage(beforeReport, { config, timing, concurrency: job.concurrency }));
    }
    if (job.dryRun) return { summary: null, plan, before: beforeReport, after: null };
    const chunks = planChunks(plan);
    const params = {
      from: scope.from,
      to: scope.to,
      stores: scope.stores.map((s) => s.id),
      mirror,
      concurrency: job.concurrency,
      before,
    };
    backfillId = await db.transaction((tx) => createBackfill(tx, params, chunks));
  }
  deps.onStart?.({ backfillId, plan, before: beforeReport, resumed: Boolean(job.resume) });

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
      if (state === 'open') logger.warn({ cooldownMs: info.cooldownMs }, 'KLK falla seguido: peticiones en pausa hasta que una prueba pase');
      if (state === 'closed') logger.info('KLK responde de nuevo: se reanudan las peticiones');
    },
  });
  let totals: LedgerTotals;
  let fatal: unknown = null;
  try {
    totals = await executeBackfill(
      {
        db,
        klk: deps.klk,
        logger,
        stores: new Map(config.stores.map((s) => [s.id, s])),
        concurrency: job.concurrency,
        breaker,
        maxAttempts: deps.maxAttempts,
        retryDelayMs: deps.retryDelayMs,
        onProgress: deps.onProgress,
        signal: deps.signal,
        runId,
      },
      backfillId,
      { mirror },
    );
  } catch (error) {
    fatal = error;
    totals = await ledgerTotals(db, backfillId);
  }

  const afterReport = await computeCoverage(db, config, scope);
  const status: BackfillSummary['status'] =
    totals.failed === 0 && totals.pending === 0 && totals.running === 0 ? 'complete' : totals.done > 0 ? 'partial' : 'failed';
  const summary: BackfillSummary = {
    status,
    chunks: { total: totals.total, done: totals.done, failed: totals.failed },
    storeDays: totals.storeDays,
    rowsInserted: totals.inserted,
    rowsUpdated: totals.updated,
    rowsDeleted: totals.deleted,
    duplicatesInSource: totals.duplicates,
    quarantined: totals.quarantined,
    seconds: Math.round((performance.now() - started) / 100) / 10,
    before,
    after: afterReport.totals,
    backfillId,
  };
  await finishBackfill(db, backfillId, status === 'complete' ? 'complete' : fatal ? 'failed' : status, summary);
  await finishRun(db, runId, status === 'complete' ? 'success' : status === 'partial' ? 'partial' : 'failed', {}, fatal ? String((fatal as Error).message) : null);
  if (fatal) throw fatal;
  return { summary, plan, before: beforeReport, after: afterReport };
}

export { getBackfill };
