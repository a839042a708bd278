import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../catalogue/config.ts';
import { runBackfill, type BackfillSummary } from '../backfill/run.ts';
import { computeCoverage, type CoverageReport } from '../coverage/index.ts';
import { openDb } from '../db/index.ts';
import type { Db } from '../db/types.ts';
import { createKlkClient } from '../klk/index.ts';
import { planForReport } from '../backfill/evidence.ts';
import { toPlanJson, type PlanJson } from '../plan/index.ts';
import { addDays, type IsoDate } from '../shared/dates.ts';
import { UsageError } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import { startSimulator, type RunningSimulator } from '../sim/index.ts';
import { runEtl, type EtlSummary } from '../sync/etl.ts';
import type { Interval } from '../sync/interval.ts';
import { SEED_FROM, SEED_TO, seedSituation } from './seed-situation.ts';

export interface DemoOptions {
  dataDir: string;
  seed: number;
  scale: number;
  concurrency: number;
  /** Simulated KLK latency: base ms and ms per 1,000 lines. */
  latencyMs: [number, number];
  /** Stop once the plan is shown, leaving the backfill to someone else (`ventas demo --serve`: the dashboard). */
  stopAfterPlan?: boolean;
}

export interface DemoHooks {
  phase(name: 'history' | 'gaps' | 'plan' | 'backfill' | 'verify'): void;
  onHistoryProgress(done: number, total: number, lines: number): void;
  onHistoryLoaded(summary: EtlSummary): void;
  onGaps(report: CoverageReport): void;
  onPlan(plan: PlanJson): void;
  onBackfillProgress(done: number, total: number, lines: number): void;
  onBackfillDone(summary: BackfillSummary, after: CoverageReport): void;
}

/** Consecutive days as intervals of whole days. */
function runsOf(days: readonly IsoDate[]): Interval[] {
  const out: Interval[] = [];
  let start: IsoDate | null = null;
  let prev: IsoDate | null = null;
  for (const day of [...days].sort()) {
    if (prev && addDays(prev, 1) === day) {
      prev = day;
      continue;
    }
    if (start && prev) out.push({ from: `${start} 00:00:00`, to: `${prev} 23:59:59` });
    start = prev = day;
  }
  if (start && prev) out.push({ from: `${start} 00:00:00`, to: `${prev} 23:59:59` });
  return out;
}

/**
 * The main job on embedded defaults: the seed's situation recreated in PGlite through the simulator and the ETL
 * itself (the present days loaded, the partial ones only 08:00-09:59), then gaps, plan, backfill and the verified
 * result. Returns the database and simulator still open so a caller can go on (the dashboard) or close them.
 */
export async function runDemo(
  config: Config,
  options: DemoOptions,
  logger: Logger,
  hooks: DemoHooks,
): Promise<{ db: Db; sim: RunningSimulator }> {
  recreateDemoFolder(options.dataDir);
  const sim = await startSimulator({
    seed: options.seed,
    scale: options.scale,
    latencyMs: options.latencyMs,
    stores: config.stores,
    closedDays: config.closedDays,
  });
  let db: Db | null = null;
  try {
    db = await openDb({ databaseUrl: '', dataDir: options.dataDir });
    const klk = createKlkClient({ baseUrl: sim.url, concurrency: options.concurrency, attempts: 2 });
    const byId = new Map(config.stores.map((s) => [s.id, s]));

    hooks.phase('history');
    const situation = seedSituation(config.stores, config.closedDays);
    const history = await runEtl(
      {
        db,
        klk,
        logger,
        concurrency: options.concurrency,
        onProgress: (p) => hooks.onHistoryProgress(p.requestsDone, p.requestsTotal, p.lines),
      },
      {
        type: 'manual',
        chunkDays: 5,
        command: 'ventas demo (historia con huecos)',
        targets: situation.map((s) => ({
          store: byId.get(s.storeId)!,
          intervals: [...runsOf(s.present), ...s.partial.map((d) => ({ from: `${d} 08:00:00`, to: `${d} 09:59:59` }))],
        })),
      },
    );
    hooks.onHistoryLoaded(history);

    hooks.phase('gaps');
    const window = { from: SEED_FROM, to: SEED_TO, stores: config.stores };
    const report = await computeCoverage(db, config, window);
    hooks.onGaps(report);

    hooks.phase('backfill');
    if (options.stopAfterPlan) {
      hooks.onPlan(toPlanJson(await planForReport(db, report, { config, concurrency: options.concurrency })));
      return { db, sim };
    }
    const outcome = await runBackfill(
      {
        db,
        config,
        klk,
        logger,
        onStart: ({ plan }) => plan && hooks.onPlan(plan),
        onProgress: (t) => hooks.onBackfillProgress(t.storeDaysDone, t.storeDays, t.lines),
      },
      { ...window, concurrency: options.concurrency },
    );
    hooks.phase('verify');
    hooks.onBackfillDone(outcome.summary!, outcome.after!);
    return { db, sim };
  } catch (error) {
    // Nothing is left running behind a demo that failed half-way: the process can end.
    await db?.close().catch(() => undefined);
    await sim.close().catch(() => undefined);
    throw error;
  }
}

/**
 * Empties the demo's folder for a fresh database, refusing any folder that is neither empty nor an embedded
 * database already (a --data-dir pointing at a project would otherwise be deleted).
 */
function recreateDemoFolder(dataDir: string): void {
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0 && !existsSync(join(dataDir, 'PG_VERSION'))) {
    throw new UsageError(
      `--data-dir ${dataDir} no está vacía ni es una base embebida: la demo la recrearía. Elija una carpeta vacía o nueva.`,
    );
  }
  rmSync(dataDir, { recursive: true, force: true });
}
