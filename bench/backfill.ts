/**
 * Figure 2 (backfill time) and figure 4b (memory while backfilling): the seed's situation at scale 1 with KLK's
 * recorded timings scaled down, filled by `ventas backfill` and the seed's way, each in its own child process and
 * its own fresh database, against the lower bound of our requests.
 */
import { fileURLToPath } from 'node:url';
import type { Config } from '../src/catalogue/config.ts';
import type { Store } from '../src/catalogue/stores.ts';
import { computeCoverage } from '../src/coverage/index.ts';
import { openDb } from '../src/db/index.ts';
import { SEED_FROM, SEED_TO } from '../src/demo/seed-situation.ts';
import { planFromCoverage } from '../src/plan/from-coverage.ts';
import { fitCostModel } from '../src/plan/timing.ts';
import { planChunks, toPlanJson } from '../src/plan/index.ts';
import { eachDay } from '../src/shared/dates.ts';
import type { RunningSimulator, SimWorld } from '../src/sim/index.ts';
import { connect, progress, recreateDatabase, runNode } from './lib.ts';
import { seedSteps, stepRequests } from './seed-way.ts';
import { recordSituation, situationOf, usualLines } from './situation.ts';

const CHILD = fileURLToPath(new URL('./child-backfill.ts', import.meta.url));
const KLK_LIMIT = 3;

/** What a request to the real KLK was recorded to cost, the planner's default model: 4 s + 2.5 s per 1,000 lines. */
export const KLK_BASE_MS = 4_000;
export const KLK_PER_THOUSAND_MS = 2_500;

export interface Latency {
  factor: number;
  baseMs: number;
  perThousandMs: number;
}

export function scaledLatency(factor: number): Latency {
  return { factor, baseMs: KLK_BASE_MS / factor, perThousandMs: KLK_PER_THOUSAND_MS / factor };
}

const requestMs = (latency: Latency, lines: number) => latency.baseMs + (latency.perThousandMs * lines) / 1000;

/** The same request times spread over `slots` in order, each request taking the first free slot. */
function scheduleMs(durations: readonly number[], slots: number): number {
  const free = Array.from({ length: slots }, () => 0);
  for (const d of durations) {
    free.sort((a, b) => a - b);
    free[0]! += d;
  }
  return Math.max(...free);
}

export interface ModelFigures {
  stores: number;
  missingStoreDays: number;
  ours: { requests: number; lines: number; lowerBoundSeconds: number };
  /** The seed's commands in sequence, three stores at a time and each store's chunks in sequence (the old tool). */
  seedOldTool: { requests: number; lines: number; seconds: number };
  /** The seed's commands in sequence, each with today's `ventas etl` (three requests in flight within a command). */
  seedTodayEngine: { seconds: number };
}

/**
 * What the latency model predicts for a set of stores, from the plan and the simulator's usual volumes (no request
 * made): it shows how the measured subset compares with the whole situation.
 */
async function model(
  db: Parameters<typeof computeCoverage>[0],
  config: Config,
  world: SimWorld,
  stores: readonly Store[],
  latency: Latency,
): Promise<ModelFigures> {
  const report = await computeCoverage(db, config, { from: SEED_FROM, to: SEED_TO, stores });
  // KLK's recorded cost is the planner's default model (no sample: the default).
  const plan = toPlanJson(planFromCoverage(report, { config, timing: fitCostModel([]), concurrency: KLK_LIMIT }));
  const byId = new Map(stores.map((s) => [s.id, s]));
  const linesOf = (store: Store, from: string, to: string) =>
    eachDay(from, to).reduce((n, d) => n + usualLines(world, store, d), 0);
  const ourLines = planChunks(plan).map((c) => linesOf(byId.get(c.storeId)!, c.dayFrom, c.dayTo));
  let oldTool = 0;
  let todayEngine = 0;
  let seedRequests = 0;
  let seedLines = 0;
  for (const step of seedSteps(stores)) {
    const requests = stepRequests(step).map((r) => ({
      store: r.store.id,
      ms: requestMs(latency, linesOf(r.store, r.window.fechaDesde, r.window.fechaHasta)),
      lines: linesOf(r.store, r.window.fechaDesde, r.window.fechaHasta),
    }));
    const perStore = new Map<string, number>();
    for (const r of requests) perStore.set(r.store, (perStore.get(r.store) ?? 0) + r.ms);
    oldTool += scheduleMs([...perStore.values()], KLK_LIMIT);
    todayEngine += scheduleMs(
      requests.map((r) => r.ms),
      KLK_LIMIT,
    );
    seedRequests += requests.length;
    seedLines += requests.reduce((n, r) => n + r.lines, 0);
  }
  return {
    stores: stores.length,
    missingStoreDays: report.totals.missingStoreDays + report.totals.partialStoreDays,
    ours: {
      requests: ourLines.length,
      lines: ourLines.reduce((a, b) => a + b, 0),
      lowerBoundSeconds: ourLines.reduce((n, l) => n + requestMs(latency, l), 0) / KLK_LIMIT / 1000,
    },
    seedOldTool: { requests: seedRequests, lines: seedLines, seconds: oldTool / 1000 },
    seedTodayEngine: { seconds: todayEngine / 1000 },
  };
}

export interface BackfillBenchResult {
  latency: Latency;
  stores: string[];
  model: { subset: ModelFigures; whole: ModelFigures };
  ours: {
    seconds: number;
    requests: number;
    lines: number;
    storeDays: number;
    lowerBoundSeconds: number;
    maxRssBytes: number | null;
    missingAfter: number;
  };
  seedWay: { seconds: number; requests: number; lines: number; missingAfter: number; maxRssBytes: number | null };
}

export async function benchBackfill(
  sim: RunningSimulator,
  world: SimWorld,
  config: Config,
  stores: readonly Store[],
  serverUrl: string,
  latency: Latency,
): Promise<BackfillBenchResult> {
  sim.options.latencyMs = [latency.baseMs, latency.perThousandMs];
  sim.options.replay = null;
  const ids = stores.map((s) => s.id);

  progress('backfill: modelo de la situación completa y del subconjunto medido');
  const modelUrl = await recreateDatabase(serverUrl, 'ventas_bench_model');
  const modelDb = await openDb({ databaseUrl: modelUrl });
  let subset: ModelFigures;
  let whole: ModelFigures;
  try {
    await recordSituation(modelDb, world, config.stores, situationOf(config, config.stores));
    whole = await model(modelDb, config, world, config.stores, latency);
    subset = await model(modelDb, config, world, stores, latency);
  } finally {
    await modelDb.close();
  }

  const prepare = async (database: string) => {
    const url = await recreateDatabase(serverUrl, database);
    const db = await openDb({ databaseUrl: url });
    try {
      await recordSituation(db, world, stores, situationOf(config, stores));
    } finally {
      await db.close();
    }
    return url;
  };
  const missingAfter = async (url: string) => {
    const db = await openDb({ databaseUrl: url });
    try {
      const t = (await computeCoverage(db, config, { from: SEED_FROM, to: SEED_TO, stores })).totals;
      return t.missingStoreDays + t.partialStoreDays;
    } finally {
      await db.close();
    }
  };

  const oursUrl = await prepare('ventas_bench_backfill');
  progress(
    `backfill: ventas backfill de ${ids.length} tiendas (${subset.missingStoreDays} días-tienda por llenar, latencia de KLK / ${latency.factor})`,
  );
  sim.resetStats();
  const oursChild = await runNode(CHILD, ['ours', oursUrl, sim.url, ids.join(',')]);
  if (oursChild.code !== 0) throw new Error(`el backfill falló: ${oursChild.stderr.slice(-3000)}`);
  const oursOut = JSON.parse(oursChild.stdout.trim().split('\n').at(-1)!) as {
    seconds: number;
    summary: { status: string; storeDays: number };
  };
  if (oursOut.summary.status !== 'complete') throw new Error(`el backfill terminó ${oursOut.summary.status}`);
  const client = await connect(oursUrl);
  let requestLines: number[];
  try {
    requestLines = (
      await client.query<{ lines: number }>(`SELECT lines FROM klk_requests WHERE outcome IN ('ok', 'empty')`)
    ).rows.map((r) => r.lines);
  } finally {
    await client.end();
  }
  const ours = {
    seconds: oursOut.seconds,
    requests: requestLines.length,
    lines: requestLines.reduce((a, b) => a + b, 0),
    storeDays: oursOut.summary.storeDays,
    lowerBoundSeconds: requestLines.reduce((n, l) => n + requestMs(latency, l), 0) / KLK_LIMIT / 1000,
    maxRssBytes: oursChild.maxRssBytes,
    missingAfter: await missingAfter(oursUrl),
  };
  progress(
    `backfill: ${ours.seconds.toFixed(1)} s (cota inferior ${ours.lowerBoundSeconds.toFixed(1)} s); ahora a la manera de la semilla`,
  );

  const seedUrl = await prepare('ventas_bench_seedway');
  const seedChild = await runNode(CHILD, ['seed', seedUrl, sim.url, ids.join(',')]);
  if (seedChild.code !== 0) throw new Error(`la manera de la semilla falló: ${seedChild.stderr.slice(-3000)}`);
  const seedOut = JSON.parse(seedChild.stdout.trim().split('\n').at(-1)!) as {
    seconds: number;
    requests: number;
    lines: number;
  };
  const seedWay = { ...seedOut, missingAfter: await missingAfter(seedUrl), maxRssBytes: seedChild.maxRssBytes };
  progress(`backfill: la manera de la semilla tardó ${seedWay.seconds.toFixed(1)} s`);
  sim.options.latencyMs = [0, 0];
  return { latency, stores: ids, model: { subset, whole }, ours, seedWay };
}
