/**
 * `npm run bench`: the figures that show how fast `ventas` is, each beside what it is compared with and its target,
 * measured on the real PostgreSQL of DATABASE_URL (default the local one) and, for the load rate, on PGlite too.
 * Progress on stderr, the table on stdout, everything in bench/results.json.
 *
 * It creates and drops its own databases on that server, all named ventas_bench_*. Settings (environment):
 *   BENCH_LATENCY_FACTOR  KLK's recorded timings are divided by this for the backfill figure (default 12)
 *   BENCH_BACKFILL_STORES stores of the backfill figure, comma-separated (default: every 4th row of the seed's table)
 *   BENCH_PGLITE=0        skip the PGlite reference
 *   BENCH_KEEP_DATABASES=1 leave the ventas_bench_* databases for inspection
 *   BENCH_ONLY=estimate   only these parts (comma-separated: load, backfill, gaps, estimate, cli); the table is
 *                         printed and bench/results.json, which holds every figure, is left as it is
 *
 * It first compiles src/ into dist/ (bin/build), so the figures that run bin/ventas measure the code as it is.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/catalogue/index.ts';
import { startSimulator } from '../src/sim/index.ts';
import { benchBackfill, scaledLatency, type BackfillBenchResult } from './backfill.ts';
import { benchCliStart, type CliStartResult } from './cli-start.ts';
import { benchEstimate, type EstimateBenchResult } from './estimate.ts';
import { benchGaps, type GapsBenchResult } from './gaps.ts';
import { dropDatabase, elapsedSeconds, machineInfo, progress, ROOT } from './lib.ts';
import { benchLoadRate, type EtlRun, type LoadRateResult } from './load-rate.ts';
import { renderTable, type Figure } from './report.ts';

const SERVER_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const LATENCY_FACTOR = Number(process.env.BENCH_LATENCY_FACTOR ?? 12);
/**
 * The seed's summary table sorted by missing days (11, 07, 02, 03, 05, 18, 16, 15, 13, 10, 06, 08, 17, 12, 20, 19,
 * 04, 09, 01): every 4th row from the 2nd. One store of each kind (ALTA with a long range, the store opened in
 * December, MEDIA, two BAJA), and its modelled ratio to the seed's way is the whole situation's (see results.json).
 */
const DEFAULT_BACKFILL_STORES = ['tienda_07', 'tienda_18', 'tienda_10', 'tienda_12', 'tienda_09'];
const BENCH_DATABASES = [
  'ventas_bench_load',
  'ventas_bench_memory',
  'ventas_bench_model',
  'ventas_bench_backfill',
  'ventas_bench_seedway',
  'ventas_bench_gaps',
  'ventas_bench_estimate',
];
const PARTS = ['load', 'backfill', 'gaps', 'estimate', 'cli'] as const;
type Part = (typeof PARTS)[number];
const TIME_LIMIT_MINUTES = 15;

/** The simulated world: seed 1, real volume, its clock after the seed's window so every day is complete. */
const WORLD = { seed: 1, scale: 1, now: new Date('2026-06-01T12:00:00Z') };

const MB = 1024 * 1024;
const rate = (run: EtlRun) => run.lines / run.seconds;
const int = (n: number) => Math.round(n).toLocaleString('es');
const pct = (part: number, whole: number) => `${Math.round((100 * part) / whole)} %`;
const oneDecimal = (n: number) => n.toLocaleString('es', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const twoDecimals = (n: number) => n.toLocaleString('es', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const walText = (run: EtlRun) => (run.walBytes === undefined ? 'no medido' : `${oneDecimal(run.walBytes / MB)} MB`);

function loadFigures(r: LoadRateResult): Figure[] {
  const pg = r.postgres;
  const floorSeconds = r.floor.parseSeconds + r.floor.copySeconds;
  const floorRate = r.floor.lines / floorSeconds;
  const firstRate = rate(pg.first);
  const speedup = pg.first.seconds / pg.reload.seconds;
  const figures: Figure[] = [
    {
      id: 'load.first',
      figure: `Carga inicial, respuesta de ${int(r.answer.lines)} líneas (ventas etl, PostgreSQL; mediana de ${pg.runs.first.length})`,
      measured: {
        value: firstRate,
        unit: 'líneas/s',
        text: `${int(firstRate)} líneas/s (${oneDecimal(pg.first.seconds)} s)`,
      },
      comparedWith: {
        value: floorRate,
        unit: 'líneas/s',
        text: `piso de la máquina: ${int(floorRate)} líneas/s (JSON.parse ${oneDecimal(r.floor.parseSeconds)} s + COPY sin índices ${oneDecimal(r.floor.copySeconds)} s); ${Math.round((100 * firstRate) / floorRate)} % del piso`,
      },
      target: { text: '≥ 50.000 líneas/s y ≥ 50 % del piso', minRate: 50_000, minShareOfFloor: 0.5 },
      met: firstRate >= 50_000 && firstRate >= 0.5 * floorRate,
    },
    {
      id: 'load.read',
      figure: 'Lectura de la misma respuesta sin escribir (ventas etl --dry-run): lo que toda carga paga',
      measured: {
        value: rate(pg.read),
        unit: 'líneas/s',
        text: `${int(rate(pg.read))} líneas/s (${oneDecimal(pg.read.seconds)} s)`,
      },
      comparedWith: {
        value: r.floor.parseSeconds,
        unit: 's',
        text: `JSON.parse del piso: ${oneDecimal(r.floor.parseSeconds)} s; la lectura es el ${pct(pg.read.seconds, pg.first.seconds)} de la carga inicial`,
      },
      target: { text: 'referencia, sin objetivo' },
      met: null,
    },
    {
      id: 'load.reload',
      figure: 'Recarga sin cambios de la misma respuesta',
      measured: {
        value: rate(pg.reload),
        unit: 'líneas/s',
        text: `${int(rate(pg.reload))} líneas/s (${oneDecimal(pg.reload.seconds)} s)`,
      },
      comparedWith: {
        value: pg.first.seconds,
        unit: 's',
        text:
          `carga inicial: ${oneDecimal(pg.first.seconds)} s; ${speedup.toFixed(2).replace('.', ',')} veces más rápida. ` +
          `Sin la lectura: ${twoDecimals(pg.reload.seconds - pg.read.seconds)} s frente a ${twoDecimals(pg.first.seconds - pg.read.seconds)} s; ` +
          `WAL escrito: ${walText(pg.reload)} frente a ${walText(pg.first)}`,
      },
      target: { text: '≥ 2 veces más rápida que la carga inicial', minSpeedup: 2 },
      met: speedup >= 2,
    },
  ];
  if (r.pglite) {
    figures.push({
      id: 'load.pglite',
      figure: 'Referencia: la misma carga en PGlite (inicial / recarga)',
      measured: {
        value: rate(r.pglite.first),
        unit: 'líneas/s',
        text: `${int(rate(r.pglite.first))} / ${int(rate(r.pglite.reload))} líneas/s`,
      },
      comparedWith: {
        value: firstRate,
        unit: 'líneas/s',
        text: `PostgreSQL: ${int(firstRate)} / ${int(rate(pg.reload))} líneas/s`,
      },
      target: { text: 'referencia, sin objetivo' },
      met: null,
    });
  }
  const rss = r.memory.run.maxRssBytes;
  figures.push({
    id: 'memory.load',
    figure: `Memoria: pico de RSS cargando una respuesta de ${int(r.memory.answerLines)} líneas`,
    measured: {
      value: rss === null ? null : rss / MB,
      unit: 'MB',
      text: rss === null ? 'no medido' : `${int(rss / MB)} MB`,
    },
    comparedWith: {
      value: ((r.answer.bytes / r.answer.lines) * r.memory.answerLines) / MB,
      unit: 'MB',
      text: `la respuesta pesa ${int(((r.answer.bytes / r.answer.lines) * r.memory.answerLines) / MB)} MB`,
    },
    target: { text: '< 500 MB', maxMb: 500 },
    met: rss !== null && rss / MB < 500,
  });
  return figures;
}

function backfillFigures(r: BackfillBenchResult): Figure[] {
  const share = r.ours.seconds / r.seedWay.seconds;
  const overBound = r.ours.seconds / r.ours.lowerBoundSeconds - 1;
  const scope = `${r.stores.length} tiendas, ${int(r.ours.storeDays)} días-tienda, ${int(r.ours.lines)} líneas, escala 1, latencia de KLK / ${r.latency.factor}`;
  const rss = r.ours.maxRssBytes;
  return [
    {
      id: 'backfill.seed',
      figure: `Backfill de la situación de la semilla (${scope})`,
      measured: { value: r.ours.seconds, unit: 's', text: `${oneDecimal(r.ours.seconds)} s` },
      comparedWith: {
        value: r.seedWay.seconds,
        unit: 's',
        text: `a la manera de la semilla: ${oneDecimal(r.seedWay.seconds)} s (${int(r.seedWay.lines)} líneas, quedan ${r.seedWay.missingAfter} días-tienda sin llenar); ${Math.round(share * 100)} %`,
      },
      target: { text: '≤ 40 % del tiempo de la semilla', maxShare: 0.4 },
      met: share <= 0.4 && r.ours.missingAfter === 0,
    },
    {
      id: 'backfill.bound',
      figure: 'Backfill frente a la cota inferior',
      measured: { value: r.ours.seconds, unit: 's', text: `${oneDecimal(r.ours.seconds)} s` },
      comparedWith: {
        value: r.ours.lowerBoundSeconds,
        unit: 's',
        text: `cota inferior: ${oneDecimal(r.ours.lowerBoundSeconds)} s (latencias de ${r.ours.requests} peticiones / 3 por KLK); +${Math.round(overBound * 100)} %`,
      },
      target: { text: '≤ 15 % sobre la cota inferior', maxOver: 0.15 },
      met: overBound <= 0.15,
    },
    {
      id: 'backfill.model',
      figure: `Referencia, modelo de latencias sin ejecutar: la situación completa (${r.model.whole.stores} tiendas, ${int(r.model.whole.missingStoreDays)} días-tienda) y el subconjunto medido`,
      measured: {
        value: r.model.whole.ours.lowerBoundSeconds,
        unit: 's',
        text: `cota inferior: ${int(r.model.whole.ours.lowerBoundSeconds)} s completa, ${int(r.model.subset.ours.lowerBoundSeconds)} s subconjunto`,
      },
      comparedWith: {
        value: r.model.whole.seedOldTool.seconds,
        unit: 's',
        text:
          `semilla con su herramienta: ${int(r.model.whole.seedOldTool.seconds)} s (${pct(r.model.whole.ours.lowerBoundSeconds, r.model.whole.seedOldTool.seconds)}) y ` +
          `${int(r.model.subset.seedOldTool.seconds)} s (${pct(r.model.subset.ours.lowerBoundSeconds, r.model.subset.seedOldTool.seconds)}); ` +
          `sus comandos con el ventas etl de hoy: ${int(r.model.whole.seedTodayEngine.seconds)} s (${pct(r.model.whole.ours.lowerBoundSeconds, r.model.whole.seedTodayEngine.seconds)}) y ` +
          `${int(r.model.subset.seedTodayEngine.seconds)} s (${pct(r.model.subset.ours.lowerBoundSeconds, r.model.subset.seedTodayEngine.seconds)})`,
      },
      target: { text: 'referencia: el subconjunto representa a la situación completa' },
      met: null,
    },
    {
      id: 'memory.backfill',
      figure: 'Memoria: pico de RSS durante el backfill',
      measured: {
        value: rss === null ? null : rss / MB,
        unit: 'MB',
        text: rss === null ? 'no medido' : `${int(rss / MB)} MB`,
      },
      comparedWith: {
        value: r.seedWay.maxRssBytes === null ? null : r.seedWay.maxRssBytes / MB,
        unit: 'MB',
        text: r.seedWay.maxRssBytes === null ? '—' : `a la manera de la semilla: ${int(r.seedWay.maxRssBytes / MB)} MB`,
      },
      target: { text: '< 500 MB', maxMb: 500 },
      met: rss !== null && rss / MB < 500,
    },
  ];
}

function estimateFigure(r: EstimateBenchResult): Figure {
  const e = r.estimate;
  const model = e.model === 'fitted' ? `modelo ajustado con ${e.samples} peticiones registradas` : 'modelo por defecto';
  return {
    id: 'plan.estimate',
    figure: `Estimación del plan frente a su backfill (${r.stores.length} tiendas, ${r.window.from} a ${r.window.to}, ${r.requests} peticiones, escala 1, latencia de KLK / ${r.latency.factor})`,
    measured: {
      value: r.estimatedSeconds,
      unit: 's',
      text: `estimado ${int(r.estimatedSeconds)} s (${model}: ${twoDecimals(e.baseSeconds)} s + ${twoDecimals(e.secondsPer1000Lines)} s por 1.000 líneas)`,
    },
    comparedWith: {
      value: r.backfillSeconds,
      unit: 's',
      text: `backfill real: ${oneDecimal(r.backfillSeconds)} s; ${twoDecimals(r.ratio)} veces`,
    },
    target: { text: 'entre 0,7 y 1,4 veces el real', minRatio: 0.7, maxRatio: 1.4 },
    met: r.ratio >= 0.7 && r.ratio <= 1.4,
  };
}

function gapsFigure(r: GapsBenchResult): Figure {
  const times = r.seedSql.medianMs / r.report.medianMs;
  return {
    id: 'gaps.report',
    figure: `Informe de huecos: ${r.stores} tiendas x 365 días, tabla de ${(r.rows / 1e6).toFixed(2).replace('.', ',')} millones de filas`,
    measured: {
      value: r.report.medianMs,
      unit: 'ms',
      text: `${int(r.report.medianMs)} ms (mediana de ${r.report.runsMs.length})`,
    },
    comparedWith: {
      value: r.seedSql.medianMs,
      unit: 'ms',
      text: `consulta de verificación de la semilla: ${int(r.seedSql.medianMs)} ms (mediana de ${r.seedSql.runsMs.length}); ${int(times)} veces más rápido`,
    },
    target: { text: '< 200 ms y ≥ 20 veces más rápido', maxMs: 200, minSpeedup: 20 },
    met: r.report.medianMs < 200 && times >= 20,
  };
}

function cliStartFigure(r: CliStartResult): Figure {
  return {
    id: 'cli.start',
    figure: `Arranque: ventas --help tal como se instala (bin/ventas sobre dist/; mediana de ${r.runs})`,
    measured: { value: r.help.medianMs, unit: 'ms', text: `${int(r.help.medianMs)} ms` },
    comparedWith: {
      value: r.node.medianMs,
      unit: 'ms',
      text: `node -e 0: ${int(r.node.medianMs)} ms (mediana de ${r.runs}); ${twoDecimals(r.ratio)} veces`,
    },
    target: { text: '≤ 4 veces node -e 0', maxRatio: 4 },
    met: r.ratio <= 4,
  };
}

/** src/ compiled into dist/, as `npm ci` does: what bin/ventas runs (the load figures and the start-up). */
function build(): void {
  progress('compilando src/ en dist/ (bin/build)');
  const child = spawnSync(process.execPath, [join(ROOT, 'bin', 'build')], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (child.status !== 0) throw new Error(`bin/build terminó con código ${child.status}`);
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim()) ?? [...PARTS];
  const unknown = only.filter((p) => !PARTS.includes(p as Part));
  if (unknown.length > 0)
    throw new Error(`BENCH_ONLY: partes desconocidas ${unknown.join(', ')}; las hay: ${PARTS.join(', ')}`);
  const runs = (part: Part) => only.includes(part);
  const machine = await machineInfo(SERVER_URL);
  progress(
    `máquina: ${machine.cpus} CPU (${machine.cpuModel}), ${machine.memoryGb} GB, Node ${machine.node}, PostgreSQL ${machine.postgres}; carga ${machine.loadAverageAtStart.join(' ')}`,
  );
  if (runs('load') || runs('cli')) build();
  const config = loadConfig(undefined);
  const workDir = mkdtempSync(join(tmpdir(), 'ventas-bench-'));
  const sim = await startSimulator({ ...WORLD, stores: config.stores, closedDays: config.closedDays });
  const ids = process.env.BENCH_BACKFILL_STORES?.split(',').map((s) => s.trim()) ?? DEFAULT_BACKFILL_STORES;
  const backfillStores = config.stores.filter((s) => ids.includes(s.id));
  const florAmarillo = config.stores.find((s) => s.id === 'tienda_11')!;
  let load: LoadRateResult | undefined;
  let backfill: BackfillBenchResult | undefined;
  let gaps: GapsBenchResult | undefined;
  let estimate: EstimateBenchResult | undefined;
  let cli: CliStartResult | undefined;
  try {
    if (runs('load'))
      load = await benchLoadRate(sim, florAmarillo, SERVER_URL, workDir, { pglite: process.env.BENCH_PGLITE !== '0' });
    if (runs('backfill'))
      backfill = await benchBackfill(sim, WORLD, config, backfillStores, SERVER_URL, scaledLatency(LATENCY_FACTOR));
    if (runs('gaps')) gaps = await benchGaps(config, SERVER_URL, { to: '2026-01-25', reportRuns: 21, seedRuns: 3 });
    if (runs('estimate')) estimate = await benchEstimate(sim, SERVER_URL, scaledLatency(LATENCY_FACTOR));
    if (runs('cli')) cli = benchCliStart();
  } finally {
    await sim.close();
    rmSync(workDir, { recursive: true, force: true });
    if (process.env.BENCH_KEEP_DATABASES !== '1') {
      for (const name of BENCH_DATABASES) await dropDatabase(SERVER_URL, name).catch(() => undefined);
    }
  }
  machine.loadAverageAtEnd = loadavg().map((x) => Math.round(x * 100) / 100);
  const minutes = elapsedSeconds() / 60;
  const figures: Figure[] = [
    ...(load ? loadFigures(load) : []),
    ...(backfill ? backfillFigures(backfill) : []),
    ...(gaps ? [gapsFigure(gaps)] : []),
    ...(estimate ? [estimateFigure(estimate)] : []),
    ...(cli ? [cliStartFigure(cli)] : []),
    {
      id: 'bench.duration',
      figure: 'Duración de npm run bench',
      measured: { value: minutes, unit: 'min', text: `${oneDecimal(minutes)} min` },
      comparedWith: { value: null, unit: '', text: `${machine.cpus} núcleos` },
      target: { text: `< ${TIME_LIMIT_MINUTES} min`, maxMinutes: TIME_LIMIT_MINUTES },
      met: minutes < TIME_LIMIT_MINUTES,
    },
  ];
  const results = {
    date: startedAt.toISOString(),
    machine,
    settings: {
      databaseServer: new URL(SERVER_URL).host,
      simulator: { seed: WORLD.seed, scale: WORLD.scale, now: WORLD.now.toISOString() },
      backfill: backfill && {
        stores: backfill.stores,
        latency: {
          ...backfill.latency,
          recorded: 'KLK: 4 s + 2,5 s por cada 1.000 líneas (klk-api.md §4, el modelo del planificador)',
        },
        seedWay:
          'los comandos del "Script Completo" de la semilla, uno tras otro, ejecutados como su herramienta: tres tiendas a la vez, los bloques de cada tienda uno tras otro, con el cargador de hoy',
      },
      estimate: estimate && {
        stores: estimate.stores,
        window: estimate.window,
        how: 'ventas etl registra historia (días sueltos, bloques de 3 días, dos horas de un día); ventas plan --format json la estima; ventas backfill --plan ejecuta ese plan; se compara su estimatedSeconds con los seconds del backfill',
      },
    },
    figures,
    details: { load, backfill, gaps, estimate, cli },
  };
  process.stdout.write(renderTable(figures, machine, startedAt));
  if (only.length < PARTS.length) {
    progress(`listo en ${oneDecimal(minutes)} min (solo ${only.join(', ')}: bench/results.json no se toca)`);
    return;
  }
  mkdirSync(join(ROOT, 'bench'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  progress(`listo en ${oneDecimal(minutes)} min; resultados en bench/results.json`);
}

await main();
