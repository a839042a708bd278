/**
 * `npm run bench`: the figures that show how fast `ventas` is, each beside what it is compared with and its target,
 * measured on the real PostgreSQL of DATABASE_URL (default the local one) and, for the load rate, on PGlite too.
 * Progress on stderr, the table on stdout, everything in bench/results.json.
 *
 * It creates and drops its own databases on that server, all named ventas_bench_*. Settings (environment):
 *   BENCH_LATENCY_FACTOR  KLK's recorded timings are divided by this for the backfill and estimate figures
 *                         (default 12)
 *   BENCH_HOURLY_LATENCY_FACTOR  the same for the hourly sync (default 4): its requests are short, so the work
 *                         each answer costs whatever KLK's speed (reading it, loading it) weighs far more at 1/12 of
 *                         KLK's time than it ever does in production; at 1/4 it still weighs four times more
 *   BENCH_BACKFILL_STORES stores of the backfill figure, comma-separated (default: every 4th row of the seed's table)
 *   BENCH_PGLITE=0        skip the PGlite reference
 *   BENCH_KEEP_DATABASES=1 leave the ventas_bench_* databases for inspection
 *   BENCH_ONLY=estimate   only these parts (comma-separated: load, fluxion, pglite-rss, hourly, backfill, gaps,
 *                         estimate, cli); the table is printed and bench/results.json, which holds every figure, is
 *                         left as it is. The same as `npm run bench -- --only estimate`; with `--json FILE` the
 *                         partial results are written to FILE.
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
import { dropDatabase, elapsedSeconds, machineInfo, median, progress, ROOT } from './lib.ts';
import {
  BOOKKEEPING_WAL_BYTES,
  benchFluxion,
  FLUXION_DATABASE,
  OLD_LOADER_LINES_PER_SECOND,
  OLD_LOADER_SPEEDUP_GOAL,
  type FluxionResult,
} from './fluxion.ts';
import { benchHourly, HOURLY_DATABASE, HOURLY_MAX_OVER, type HourlyResult } from './hourly.ts';
import { benchLoadRate, medianRun, saveAnswers, warmReplays, type EtlRun, type LoadRateResult } from './load-rate.ts';
import { benchPgliteRss, PGLITE_RSS_MAX_RATIO, type PgliteRssResult } from './pglite-rss.ts';
import { renderTable, type Figure } from './report.ts';

const SERVER_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const LATENCY_FACTOR = Number(process.env.BENCH_LATENCY_FACTOR ?? 12);
const HOURLY_LATENCY_FACTOR = Number(process.env.BENCH_HOURLY_LATENCY_FACTOR ?? 4);
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
  FLUXION_DATABASE,
  HOURLY_DATABASE,
];
const PARTS = ['load', 'fluxion', 'pglite-rss', 'hourly', 'backfill', 'gaps', 'estimate', 'cli'] as const;
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
      target: { text: '≥ 50.000 líneas/s y ≥ 100 % del piso', minRate: 50_000, minShareOfFloor: 1 },
      met: firstRate >= 50_000 && firstRate >= floorRate,
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

function fluxionFigures(r: FluxionResult): Figure[] {
  const first = medianRun(r.runs.map((x) => x.first));
  const reload = medianRun(r.runs.map((x) => x.reload));
  const copySeconds = median(r.runs.map((x) => x.floor.copySeconds));
  const floorWal = median(r.runs.map((x) => x.floor.walBytes));
  const parseSeconds = r.runs[0]!.floor.parseSeconds;
  const firstRate = rate(first);
  const floorRate = r.answerLines / copySeconds;
  const sequentialRate = r.answerLines / (parseSeconds + copySeconds);
  const oldGoal = OLD_LOADER_LINES_PER_SECOND * OLD_LOADER_SPEEDUP_GOAL;
  const rewritten = Math.max(...r.runs.map((x) => x.reloadRewrittenRows));
  const updated = Math.max(...r.runs.map((x) => x.reloadStats.updated));
  const inserted = Math.max(...r.runs.map((x) => x.reloadStats.inserted));
  const deleted = Math.max(...r.runs.map((x) => x.reloadStats.deleted));
  // The re-load's own WAL when pg_walinspect can tell it from the other databases', else the server's.
  const ownWal = r.runs.every((x) => x.reloadOwnWal !== null);
  const reloadWal = Math.max(...r.runs.map((x) => (ownWal ? x.reloadOwnWal!.bytes : (x.reload.walBytes ?? Infinity))));
  const kinds = ownWal
    ? (() => {
        const run = r.runs.find((x) => x.reloadOwnWal!.bytes === reloadWal)!.reloadOwnWal!;
        return run.byKind
          .slice(0, 3)
          .map((k) => `${k.kind} ${oneDecimal(k.bytes / MB)} MB`)
          .join(', ');
      })()
    : '';
  const scope = `tabla de Fluxion: sus columnas, clave primaria, clave única y 8 índices, más el índice propio (${r.indexes.length} índices); mediana de ${r.runs.length}`;
  return [
    {
      id: 'fluxion.first',
      figure: `Carga inicial de la respuesta de ${int(r.answerLines)} líneas en la ${scope}`,
      measured: {
        value: firstRate,
        unit: 'líneas/s',
        text: `${int(firstRate)} líneas/s (${oneDecimal(first.seconds)} s); WAL ${walText(first)}`,
      },
      comparedWith: {
        value: floorRate,
        unit: 'líneas/s',
        text:
          `piso: COPY simple de las mismas filas a una copia vacía de la tabla, ${int(floorRate)} líneas/s (${oneDecimal(copySeconds)} s, WAL ${oneDecimal(floorWal / MB)} MB); ` +
          `${Math.round((100 * firstRate) / floorRate)} % del piso; con JSON.parse antes (${oneDecimal(parseSeconds)} s), ${int(sequentialRate)} líneas/s. ` +
          `Cargador anterior: ${int(OLD_LOADER_LINES_PER_SECOND)} líneas/s; ${twoDecimals(firstRate / OLD_LOADER_LINES_PER_SECOND)} veces` +
          (floorRate < oldGoal
            ? `. En esta máquina el propio piso (PostgreSQL solo, sin leer nada) no llega a ${int(oldGoal)} líneas/s`
            : ''),
      },
      target: {
        text: `≥ 80 % del piso y ≥ ${int(oldGoal)} líneas/s (${oneDecimal(OLD_LOADER_SPEEDUP_GOAL)} veces el cargador anterior)`,
        minShareOfFloor: 0.8,
        minRate: oldGoal,
      },
      met: firstRate >= 0.8 * floorRate && firstRate >= oldGoal,
    },
    {
      id: 'fluxion.reload',
      figure: 'Recarga sin cambios de la misma respuesta en la tabla de Fluxion',
      measured: {
        value: rate(reload),
        unit: 'líneas/s',
        text: `${int(rate(reload))} líneas/s (${oneDecimal(reload.seconds)} s); WAL del servidor ${walText(reload)}${ownWal ? `, el de esta base (el mayor de ${r.runs.length}): ${twoDecimals(reloadWal / MB)} MB${kinds ? ` (${kinds})` : ''}` : ''}; filas reescritas: ${int(rewritten)} (xmin nuevo), n_tup_upd +${int(updated)}, n_tup_ins +${int(inserted)}, n_tup_del +${int(deleted)}`,
      },
      comparedWith: {
        value: first.seconds,
        unit: 's',
        text: `carga inicial: ${oneDecimal(first.seconds)} s, WAL ${walText(first)}; ${twoDecimals(first.seconds / reload.seconds)} veces más rápida`,
      },
      target: {
        text: `ninguna fila reescrita, WAL ≤ ${int(BOOKKEEPING_WAL_BYTES / MB)} MB (solo el registro de la ejecución), no más lenta que la carga inicial`,
        maxRewrittenRows: 0,
        maxWalBytes: BOOKKEEPING_WAL_BYTES,
        maxShareOfFirst: 1,
      },
      met:
        rewritten === 0 &&
        updated === 0 &&
        inserted === 0 &&
        deleted === 0 &&
        reloadWal <= BOOKKEEPING_WAL_BYTES &&
        reload.seconds <= first.seconds,
    },
  ];
}

/** #16's memory goal: every streamed load of the run (lean and Fluxion tables, first load and re-load), its largest peak. */
function loadPeakFigure(load: LoadRateResult | undefined, fluxion: FluxionResult | undefined): Figure | null {
  const runs = [
    ...(load ? [...load.postgres.runs.first, ...load.postgres.runs.reload, load.memory.run] : []),
    ...(fluxion ? fluxion.runs.flatMap((x) => [x.first, x.reload]) : []),
  ];
  const peaks = runs.map((x) => x.maxRssBytes).filter((b): b is number => b !== null);
  if (peaks.length === 0) return null;
  const peak = Math.max(...peaks);
  const lines = Math.max(...runs.map((x) => x.lines));
  return {
    id: 'memory.loads',
    figure: `Memoria: el mayor pico de RSS de una carga en PostgreSQL (las ${peaks.length} cargas de esta ejecución: tabla simple${fluxion ? ' y de Fluxion' : ''}, primeras cargas y recargas)`,
    measured: { value: peak / MB, unit: 'MB', text: `${int(peak / MB)} MB` },
    comparedWith: {
      value: lines,
      unit: 'líneas',
      text: `la mayor respuesta: ${int(lines)} líneas${load ? `, ${int(load.answer.bytes / MB)} MB` : ''}; la mediana de los picos: ${int(median(peaks) / MB)} MB`,
    },
    target: { text: '< 400 MB', maxMb: 400 },
    met: peak / MB < 400,
  };
}

function pgliteRssFigure(r: PgliteRssResult): Figure {
  const mb = (b: number | null) => (b === null ? 'no medido' : `${int(b / MB)} MB`);
  return {
    id: 'memory.pglite',
    figure: `Memoria en PGlite: pico de RSS de ventas etl de un día de BOSQUE (${r.day}, ${int(r.lines)} líneas, escala 1)`,
    measured: {
      value: r.etl.rssBytes === null ? null : r.etl.rssBytes / MB,
      unit: 'MB',
      text: mb(r.etl.rssBytes),
    },
    comparedWith: {
      value: r.gaps.rssBytes === null ? null : r.gaps.rssBytes / MB,
      unit: 'MB',
      text:
        `ventas gaps sobre la misma base: ${mb(r.gaps.rssBytes)}` +
        (r.ratio === null ? '' : `; ${twoDecimals(r.ratio)} veces`) +
        `; el primer ventas gaps, que crea la base: ${mb(r.createRssBytes)}`,
    },
    target: { text: `≤ ${oneDecimal(PGLITE_RSS_MAX_RATIO)} veces ventas gaps`, maxRatio: PGLITE_RSS_MAX_RATIO },
    met: r.ratio !== null && r.ratio <= PGLITE_RSS_MAX_RATIO,
  };
}

function hourlyFigures(r: HourlyResult): Figure[] {
  const byWall = [...r.runs].sort((a, b) => a.wallSeconds - b.wallSeconds);
  const run = byWall[Math.floor(byWall.length / 2)]!;
  const servedBound = run.servedBoundSeconds!;
  const over = run.etlSeconds / servedBound - 1;
  const wallOver = run.wallSeconds / servedBound - 1;
  const modelOver = run.wallSeconds / run.lowerBoundSeconds - 1;
  const outside = run.wallSeconds - run.etlSeconds;
  const signed = (share: number) => `${share < 0 ? '−' : '+'}${Math.abs(Math.round(share * 100))} %`;
  return [
    {
      id: 'hourly.sync',
      figure: `Sincronización horaria: ventas etl --todas incremental, ${r.stores} tiendas (${r.day}, horas ${r.runs.map((x) => x.now.slice(11)).join(', ')}; latencia de KLK / ${r.latency.factor}; mediana de ${r.runs.length})`,
      measured: {
        value: run.etlSeconds,
        unit: 's',
        text: `ETL ${twoDecimals(run.etlSeconds)} s, ${twoDecimals(run.wallSeconds)} s de reloj con el arranque (${run.requests} peticiones, ${int(run.lines)} líneas)`,
      },
      comparedWith: {
        value: servedBound,
        unit: 's',
        text:
          `cota inferior con lo que el simulador tarda en servir esas peticiones: ${twoDecimals(servedBound)} s ` +
          `(la tienda más lenta, o las peticiones repartidas de 3 en 3 por KLK); ETL ${signed(over)}, reloj ${signed(wallOver)}. ` +
          `Con el modelo de latencia, sin el trabajo del simulador: ${twoDecimals(run.lowerBoundSeconds)} s (la tienda más lenta, ${run.slowestStore.id}, ${twoDecimals(run.slowestStore.seconds)} s); reloj ${signed(modelOver)}`,
      },
      target: {
        text: `ETL ≤ ${Math.round(HOURLY_MAX_OVER * 100)} % sobre la cota de sus peticiones`,
        maxOver: HOURLY_MAX_OVER,
      },
      met: over <= HOURLY_MAX_OVER,
    },
    {
      id: 'hourly.startup',
      figure: 'Sincronización horaria: parte del arranque y cierre del proceso',
      measured: {
        value: outside,
        unit: 's',
        text: `${twoDecimals(outside)} s (${pct(outside, run.wallSeconds)} del reloj)`,
      },
      comparedWith: {
        value: run.etlSeconds,
        unit: 's',
        text: `el ETL según su propio registro: ${twoDecimals(run.etlSeconds)} s`,
      },
      target: { text: 'referencia, sin objetivo' },
      met: null,
    },
  ];
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

/** `--only PARTS` (as BENCH_ONLY) and `--json FILE` (where the results of a partial run go). */
function parseArgs(argv: string[]): { only?: string; json?: string } {
  const out: { only?: string; json?: string } = {};
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    if (flag !== '--only' && flag !== '--json')
      throw new Error(`argumento desconocido: ${argv[i]} (hay --only y --json)`);
    const value = inline ?? argv[++i];
    if (!value) throw new Error(`${flag} necesita un valor`);
    out[flag === '--only' ? 'only' : 'json'] = value;
  }
  return out;
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const args = parseArgs(process.argv.slice(2));
  const only = (args.only ?? process.env.BENCH_ONLY)?.split(',').map((s) => s.trim()) ?? [...PARTS];
  const unknown = only.filter((p) => !PARTS.includes(p as Part));
  if (unknown.length > 0)
    throw new Error(`--only: partes desconocidas ${unknown.join(', ')}; las hay: ${PARTS.join(', ')}`);
  const runs = (part: Part) => only.includes(part);
  const machine = await machineInfo(SERVER_URL);
  progress(
    `máquina: ${machine.cpus} CPU (${machine.cpuModel}), ${machine.memoryGb} GB, Node ${machine.node}, PostgreSQL ${machine.postgres}; carga ${machine.loadAverageAtStart.join(' ')}`,
  );
  // Every part that runs bin/ventas measures dist/.
  if (['load', 'fluxion', 'pglite-rss', 'hourly', 'cli'].some((p) => runs(p as Part))) build();
  const config = loadConfig(undefined);
  const workDir = mkdtempSync(join(tmpdir(), 'ventas-bench-'));
  const sim = await startSimulator({ ...WORLD, stores: config.stores, closedDays: config.closedDays });
  const ids = process.env.BENCH_BACKFILL_STORES?.split(',').map((s) => s.trim()) ?? DEFAULT_BACKFILL_STORES;
  const backfillStores = config.stores.filter((s) => ids.includes(s.id));
  const florAmarillo = config.stores.find((s) => s.id === 'tienda_11')!;
  const bosque = config.stores.find((s) => s.id === 'tienda_08')!;
  let load: LoadRateResult | undefined;
  let fluxion: FluxionResult | undefined;
  let pgliteRss: PgliteRssResult | undefined;
  let hourly: HourlyResult | undefined;
  let backfill: BackfillBenchResult | undefined;
  let gaps: GapsBenchResult | undefined;
  let estimate: EstimateBenchResult | undefined;
  let cli: CliStartResult | undefined;
  try {
    if (runs('load') || runs('fluxion')) {
      progress('carga: se guardan las respuestas de KLK (200.000 y 100.000 líneas)');
      const answers = await saveAnswers(sim, florAmarillo, workDir, [200_000, 100_000]);
      await warmReplays(sim, answers);
      if (runs('load'))
        load = await benchLoadRate(
          sim,
          florAmarillo,
          SERVER_URL,
          workDir,
          { pglite: process.env.BENCH_PGLITE !== '0' },
          answers,
        );
      if (runs('fluxion')) fluxion = await benchFluxion(sim, answers[0]!, florAmarillo, SERVER_URL);
    }
    if (runs('pglite-rss')) pgliteRss = await benchPgliteRss(sim, bosque, workDir);
    if (runs('hourly'))
      hourly = await benchHourly(sim, SERVER_URL, config.stores, scaledLatency(HOURLY_LATENCY_FACTOR));
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
    ...(fluxion ? fluxionFigures(fluxion) : []),
    ...[loadPeakFigure(load, fluxion)].filter((f): f is Figure => f !== null),
    ...(pgliteRss ? [pgliteRssFigure(pgliteRss)] : []),
    ...(hourly ? hourlyFigures(hourly) : []),
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
      fluxion: fluxion && {
        indexes: fluxion.indexes,
        how: 'la tabla de Fluxion (klk-api.md §5) creada antes de la migración, que la adopta y le añade su índice (ubicacion_id, fecha_venta); piso: COPY simple de las mismas filas a CREATE TABLE ... (LIKE ventas INCLUDING ALL), vacía',
      },
      hourly: hourly && {
        latency: hourly.latency,
        how: 'el día cargado hasta las 13:59 sin latencia; luego ventas etl --todas --now a las 15:00, 16:00 y 17:00, cada una en su proceso; reloj del lanzamiento a la salida; ETL: la duración de su propio registro; cota inferior: máx(la suma de las duraciones de la tienda más lenta, todas repartidas de 3 en 3: a partes iguales, o dos de las cuatro más largas en un mismo hueco), con lo que el simulador tarda en servir las mismas peticiones (enviadas de nuevo, solo leídas, 3 a la vez) y con el modelo de latencia',
      },
      estimate: estimate && {
        stores: estimate.stores,
        window: estimate.window,
        how: 'ventas etl registra historia (días sueltos, bloques de 3 días, dos horas de un día); ventas plan --format json la estima; ventas backfill --plan ejecuta ese plan; se compara su estimatedSeconds con los seconds del backfill',
      },
    },
    figures,
    details: { load, fluxion, pgliteRss, hourly, backfill, gaps, estimate, cli },
  };
  process.stdout.write(renderTable(figures, machine, startedAt));
  if (only.length < PARTS.length) {
    if (args.json) writeFileSync(args.json, `${JSON.stringify(results, null, 2)}\n`);
    progress(
      `listo en ${oneDecimal(minutes)} min (solo ${only.join(', ')}: bench/results.json no se toca${args.json ? `; resultados en ${args.json}` : ''})`,
    );
    return;
  }
  mkdirSync(join(ROOT, 'bench'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  progress(`listo en ${oneDecimal(minutes)} min; resultados en bench/results.json`);
}

await main();
