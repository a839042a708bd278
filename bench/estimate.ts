/**
 * Figure: the plan's estimate against the backfill it plans, each step a `ventas` child process as in production.
 * `ventas etl` records some history (requests of different sizes) against the simulator at volume 1 with KLK's
 * latency scaled down, `ventas plan --format json` estimates the holes left with the requests it recorded, and
 * `ventas backfill --plan` runs that very plan: its own `seconds` (planning and executing, not the process start)
 * against the plan's `estimatedSeconds`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PlanJson } from '../src/plan/index.ts';
import type { RunningSimulator } from '../src/sim/index.ts';
import type { Latency } from './backfill.ts';
import { progress, recreateDatabase, ROOT, runNode } from './lib.ts';

const VENTAS = join(ROOT, 'bin', 'ventas');
/** Three stores of different sizes; January 2026 after New Year's Day, every day complete in the simulator. */
const STORES = ['tienda_03', 'tienda_08', 'tienda_15'];
const WINDOW = { from: '2026-01-02', to: '2026-01-19' };

export interface EstimateBenchResult {
  latency: Latency;
  stores: string[];
  window: { from: string; to: string };
  historyRequests: number;
  estimate: NonNullable<PlanJson['totals']['estimate']>;
  estimatedSeconds: number;
  requests: number;
  backfillSeconds: number;
  ratio: number;
}

export async function benchEstimate(
  sim: RunningSimulator,
  serverUrl: string,
  latency: Latency,
): Promise<EstimateBenchResult> {
  sim.options.latencyMs = [latency.baseMs, latency.perThousandMs];
  sim.options.replay = null;
  const url = await recreateDatabase(serverUrl, 'ventas_bench_estimate');
  const work = mkdtempSync(join(tmpdir(), 'ventas-bench-estimate-'));
  const env = { DATABASE_URL: url, KLK_BASE_URL: sim.url, LOG_DIR: work };
  const ventas = async (args: string[]) => {
    const child = await runNode(VENTAS, args, { env });
    if (child.code !== 0)
      throw new Error(`ventas ${args.join(' ')} terminó con ${child.code}: ${child.stderr.slice(-3000)}`);
    return child.stdout;
  };
  try {
    // History of three sizes: single days, three-day chunks, and two hours of a day.
    progress(`estimación: historia con ventas etl (latencia de KLK / ${latency.factor})`);
    const etl = (stores: string, from: string, to: string, chunkDays: number) =>
      ventas([
        'etl',
        '--tiendas',
        ...stores.split(' '),
        '--fecha-desde',
        from,
        '--fecha-hasta',
        to,
        '--chunk-days',
        String(chunkDays),
        '--no-gap-recovery',
      ]);
    await etl(`${STORES[0]} ${STORES[1]}`, '2026-01-02 00:00', '2026-01-04 23:59', 1);
    await etl(STORES[2]!, '2026-01-02 00:00', '2026-01-07 23:59', 3);
    await etl(STORES[0]!, '2026-01-05 08:00', '2026-01-05 09:59', 1);

    progress('estimación: ventas plan --format json');
    const planText = await ventas([
      'plan',
      '--from',
      WINDOW.from,
      '--to',
      WINDOW.to,
      '--stores',
      STORES.join(','),
      '--format',
      'json',
    ]);
    const plan = JSON.parse(planText.trim().split('\n').at(-1)!) as PlanJson;
    const planFile = join(work, 'plan.json');
    writeFileSync(planFile, JSON.stringify(plan));
    const estimate = plan.totals.estimate!;
    progress(
      `estimación: ${plan.totals.requests} peticiones, ~${plan.totals.estimatedSeconds} s (modelo ${estimate.model}, ${estimate.samples} muestras); ventas backfill --plan`,
    );

    const summaryText = await ventas(['backfill', '--plan', planFile, '--format', 'json']);
    const summary = JSON.parse(summaryText.trim().split('\n').at(-1)!) as { status: string; seconds: number };
    if (summary.status !== 'complete') throw new Error(`el backfill de la estimación terminó ${summary.status}`);
    progress(`estimación: el backfill tardó ${summary.seconds} s`);
    return {
      latency,
      stores: STORES,
      window: WINDOW,
      historyRequests: estimate.samples,
      estimate,
      estimatedSeconds: plan.totals.estimatedSeconds,
      requests: plan.totals.requests,
      backfillSeconds: summary.seconds,
      ratio: plan.totals.estimatedSeconds / summary.seconds,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
    sim.options.latencyMs = [0, 0];
  }
}
