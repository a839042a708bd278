/**
 * Figure 1 (load rate) and figure 4a (memory of one 100,000-line answer): a saved KLK answer replayed by the
 * simulator through the real `ventas etl` in a child process, against the machine's floor measured in the same run.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '../src/catalogue/stores.ts';
import type { RunningSimulator } from '../src/sim/index.ts';
import { VENTAS_COLUMNS } from '../src/load/rows.ts';
import { openDb } from '../src/db/index.ts';
import { connect, progress, recreateDatabase, ROOT, runNode } from './lib.ts';

/** Where the saved answers start: FLOR AMARILLO, the biggest store, from a Monday of January 2026. */
const BODY_FROM = '2026-01-12';
const BODY_DAYS = 16;
const ELEMENT_START = Buffer.from(',{"numero_factura":');

export interface SavedAnswer {
  file: string;
  lines: number;
  bytes: number;
  from: string;
  to: string;
}

/**
 * Saves the simulator's answer for the store's sales floor, cut to exactly `counts` lines each (the first lines of
 * one answer; `total_registros` and `fecha_hasta` rewritten to match). The simulator writes one element per `{"numero_factura":...}`,
 * so elements start exactly at `,{"numero_factura":`.
 */
export async function saveAnswers(
  sim: RunningSimulator,
  store: Store,
  dir: string,
  counts: number[],
): Promise<SavedAnswer[]> {
  const to = new Date(Date.parse(`${BODY_FROM}T00:00:00Z`) + (BODY_DAYS - 1) * 86_400_000).toISOString().slice(0, 10);
  const response = await fetch(`${sim.url}/ventas`, {
    method: 'POST',
    body: JSON.stringify({ sucursal: store.sucursal, almacen: store.almacen, fecha_desde: BODY_FROM, fecha_hasta: to }),
  });
  const body = Buffer.from(await response.arrayBuffer());
  const listStart = body.indexOf('"ventas":[') + '"ventas":['.length;
  const head = body.subarray(0, listStart).toString('utf8');
  const boundaries: number[] = [];
  for (
    let at = body.indexOf(ELEMENT_START, listStart);
    at !== -1 && boundaries.length < Math.max(...counts);
    at = body.indexOf(ELEMENT_START, at + 1)
  ) {
    boundaries.push(at);
  }
  return counts.map((count) => {
    const end = boundaries[count - 1];
    if (end === undefined) throw new Error(`la respuesta guardada tiene menos de ${count} líneas`);
    const lastElement = body.subarray(boundaries[count - 2]! + 1, end).toString('utf8');
    const lastDay = /"fecha":"(\d{4}-\d{2}-\d{2})"/.exec(lastElement)![1]!;
    const file = join(dir, `klk-${store.sucursal}-${count}.json`);
    writeFileSync(
      file,
      Buffer.concat([
        // The meta echoes the request the cut answer stands for: its last day and its count.
        Buffer.from(
          head
            .replace(/"total_registros":\d+/, `"total_registros":${count}`)
            .replace(/"fecha_hasta":"[^"]*"/, `"fecha_hasta":"${lastDay}"`),
        ),
        body.subarray(listStart, end),
        Buffer.from(']}'),
      ]),
    );
    return { file, lines: count, bytes: readFileSync(file).length, from: BODY_FROM, to: lastDay };
  });
}

/** Each saved answer asked of the simulator once, so no measured load pays for reading its file (the simulator keeps them). */
export async function warmReplays(sim: RunningSimulator, answers: readonly SavedAnswer[]): Promise<void> {
  for (const answer of answers) {
    sim.options.replay = answer.file;
    const response = await fetch(`${sim.url}/ventas`, { method: 'POST', body: '{}' });
    await response.arrayBuffer();
  }
  sim.options.replay = null;
}

export interface EtlRun {
  seconds: number;
  lines: number;
  inserted: number;
  unchanged: number;
  maxRssBytes: number | null;
  /** WAL the server wrote during the run (PostgreSQL only). */
  walBytes?: number;
  /** Where that WAL starts and ends (pg_lsn text). */
  walRange?: [string, string];
}

/** `ventas etl` in a child process for the answer's days, one request; the ETL's own duration from its log. */
export async function runEtlChild(
  sim: RunningSimulator,
  answer: SavedAnswer,
  store: Store,
  env: { databaseUrl: string; cwd?: string; dryRun?: boolean },
): Promise<EtlRun> {
  sim.options.replay = answer.file;
  const logDir = mkdtempSync(join(tmpdir(), 'ventas-bench-log-'));
  try {
    const child = await runNode(
      join(ROOT, 'bin/ventas'),
      [
        'etl',
        '--tiendas',
        store.id,
        '--fecha-desde',
        `${answer.from} 00:00`,
        '--fecha-hasta',
        `${answer.to} 23:59`,
        '--chunk-days',
        '31',
        '--klk-url',
        sim.url,
        '--format',
        'json',
        ...(env.dryRun ? ['--dry-run'] : []),
      ],
      { env: { DATABASE_URL: env.databaseUrl, LOG_DIR: logDir, LOG_LEVEL: 'info' }, cwd: env.cwd },
    );
    if (child.code !== 0)
      throw new Error(
        `ventas etl terminó con código ${child.code}: ${child.stderr.slice(-2000)}${child.stdout.slice(-2000)}`,
      );
    const summary = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as {
      seconds: number;
      extracted: number;
      inserted: number;
      unchanged: number;
    };
    if (summary.extracted !== answer.lines)
      throw new Error(`ventas etl extrajo ${summary.extracted} líneas, se esperaban ${answer.lines}`);
    return {
      seconds: etlSecondsFromLog(logDir) ?? summary.seconds,
      lines: summary.extracted,
      inserted: summary.inserted,
      unchanged: summary.unchanged,
      maxRssBytes: child.maxRssBytes,
    };
  } finally {
    rmSync(logDir, { recursive: true, force: true });
  }
}

/** The exact duration the ETL logs at its end (the JSON summary rounds to tenths). */
function etlSecondsFromLog(logDir: string): number | null {
  try {
    for (const name of readdirSync(logDir)) {
      const lines = readFileSync(join(logDir, name), 'utf8').trim().split('\n').reverse();
      for (const line of lines) {
        const entry = JSON.parse(line) as { msg?: string; durationMs?: number };
        if (entry.msg === 'fin de la ejecución' && typeof entry.durationMs === 'number') return entry.durationMs / 1000;
      }
    }
  } catch {
    return null;
  }
  return null;
}

export interface FloorRun {
  parseSeconds: number;
  copySeconds: number;
  lines: number;
}

/**
 * The machine's floor for the same answer: each line decoded and JSON.parse'd on its own (the fastest plain parse:
 * ASCII lines become one-byte strings; the lines are found by the simulator's element boundary, no scanning, no
 * validation), the same 18 values of each line as COPY text, and a plain COPY (the tool's Db.copyFrom) into a table with the
 * same column types and no index, key or default.
 */
export async function measureFloor(answer: SavedAnswer, store: Store, databaseUrl: string): Promise<FloorRun> {
  const db = await openDb({ databaseUrl, migrate: false });
  try {
    await db.exec('DROP TABLE IF EXISTS bench_floor');
    await db.exec(`CREATE TABLE bench_floor (${VENTAS_COLUMNS.map(([name, type]) => `${name} ${type}`).join(', ')})`);
    const { chunks, lines, parseSeconds } = copyText(answer, store);
    const copyStarted = performance.now();
    await db.copyFrom(
      'bench_floor',
      VENTAS_COLUMNS.map(([name]) => name),
      chunks,
    );
    const copySeconds = (performance.now() - copyStarted) / 1000;
    const { rows: counted } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM bench_floor');
    if (counted[0]!.n !== answer.lines || lines !== answer.lines)
      throw new Error(`el piso copió ${counted[0]!.n} filas de ${answer.lines}`);
    await db.exec('DROP TABLE bench_floor');
    return { parseSeconds, copySeconds, lines };
  } finally {
    await db.close();
  }
}

/**
 * The answer's lines as COPY text of VENTAS_COLUMNS, in chunks of 10,000 rows: each line decoded and JSON.parse'd
 * on its own (ASCII lines become one-byte strings; the lines are found by the simulator's element boundary, no
 * scanning, no validation). `parseSeconds` is what that took.
 */
export function copyText(answer: SavedAnswer, store: Store): { chunks: Buffer[]; lines: number; parseSeconds: number } {
  const body = readFileSync(answer.file);
  const parseStarted = performance.now();
  const listEnd = body.lastIndexOf(']');
  const chunks: Buffer[] = [];
  let rows: string[] = [];
  let lines = 0;
  for (let from = body.indexOf('"ventas":[') + '"ventas":['.length; from < listEnd;) {
    let to = body.indexOf(ELEMENT_START, from);
    if (to === -1 || to > listEnd) to = listEnd;
    rows.push(copyRow(JSON.parse(body.toString('utf8', from, to)) as KlkLineLike, store.id));
    lines++;
    if (rows.length === 10_000) {
      chunks.push(Buffer.from(rows.join('')));
      rows = [];
    }
    from = to + 1;
  }
  chunks.push(Buffer.from(rows.join('')));
  return { chunks, lines, parseSeconds: (performance.now() - parseStarted) / 1000 };
}

interface KlkLineLike {
  numero_factura: string;
  linea: number;
  fecha: string;
  hora: string;
  producto: [{ codigo_producto: string }];
  cantidad: [
    {
      codigo_almacen: string;
      nombre_almacen: string;
      cantidad_vendida: number;
      peso_unitario: number;
      unidad_medida_venta: string;
      factor_unidad_medida: number;
    },
  ];
  financiero: [
    {
      precio_unitario_usd: number;
      costo_unitario_usd: number;
      venta_total_usd: number;
      costo_total_usd: number;
      utilidad_bruta_usd: number;
    },
  ];
}

/** One COPY text row with the values the loader writes (the simulator's texts need no escaping). */
function copyRow(line: KlkLineLike, storeId: string): string {
  const c = line.cantidad[0];
  const f = line.financiero[0];
  const margin = f.venta_total_usd > 0 ? Math.round((f.utilidad_bruta_usd / f.venta_total_usd) * 10_000) / 100 : 0;
  return (
    `${line.numero_factura}_L${line.linea}\t${line.fecha} ${line.hora.slice(0, 15)}\t${storeId}\t${c.codigo_almacen}\t${c.nombre_almacen}\t` +
    `${line.producto[0].codigo_producto}\t${c.cantidad_vendida}\t${c.peso_unitario}\t${c.peso_unitario * c.cantidad_vendida}\t` +
    `${c.cantidad_vendida * c.factor_unidad_medida}\t${c.unidad_medida_venta}\t${c.factor_unidad_medida}\t${f.precio_unitario_usd}\t` +
    `${f.costo_unitario_usd}\t${f.venta_total_usd}\t${f.costo_total_usd}\t${f.utilidad_bruta_usd}\t${margin}\n`
  );
}

/** Runs of each kind: the median is reported, so one run disturbed by the machine does not make the figure. */
export const RUNS = 3;

export const medianRun = (runs: EtlRun[]) =>
  [...runs].sort((a, b) => a.seconds - b.seconds)[Math.floor(runs.length / 2)]!;

/** The run, with the WAL the server wrote meanwhile (the bench is the server's only writer). */
export async function withWal(databaseUrl: string, run: () => Promise<EtlRun>): Promise<EtlRun> {
  const client = await connect(databaseUrl);
  try {
    const lsn = async () =>
      (await client.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn;
    const before = await lsn();
    const result = await run();
    const after = await lsn();
    const { rows } = await client.query<{ bytes: string }>('SELECT pg_wal_lsn_diff($1, $2)::bigint::text AS bytes', [
      after,
      before,
    ]);
    return { ...result, walBytes: Number(rows[0]!.bytes), walRange: [before, after] };
  } finally {
    await client.end();
  }
}

export interface LoadRateResult {
  answer: Omit<SavedAnswer, 'file'>;
  postgres: {
    first: EtlRun;
    reload: EtlRun;
    read: EtlRun;
    runs: { first: EtlRun[]; reload: EtlRun[]; read: EtlRun[] };
  };
  floor: FloorRun;
  pglite: { first: EtlRun; reload: EtlRun } | null;
  memory: { answerLines: number; run: EtlRun };
}

export async function benchLoadRate(
  sim: RunningSimulator,
  store: Store,
  serverUrl: string,
  workDir: string,
  options: { pglite: boolean },
  [big, small]: SavedAnswer[],
): Promise<LoadRateResult> {
  const runs = { first: [] as EtlRun[], reload: [] as EtlRun[], read: [] as EtlRun[] };
  let url = '';
  for (let i = 1; i <= RUNS; i++) {
    url = await recreateDatabase(serverUrl, 'ventas_bench_load');
    progress(`carga ${i}/${RUNS}: primera carga de ${big!.lines} líneas con ventas etl en PostgreSQL`);
    runs.first.push(await withWal(url, () => runEtlChild(sim, big!, store, { databaseUrl: url })));
    progress(`carga ${i}/${RUNS}: ${runs.first.at(-1)!.seconds.toFixed(2)} s; recarga sin cambios`);
    runs.reload.push(await withWal(url, () => runEtlChild(sim, big!, store, { databaseUrl: url })));
    progress(`carga ${i}/${RUNS}: ${runs.reload.at(-1)!.seconds.toFixed(2)} s; solo la lectura (ventas etl --dry-run)`);
    runs.read.push(await runEtlChild(sim, big!, store, { databaseUrl: url, dryRun: true }));
  }
  progress(
    `carga: lectura ${medianRun(runs.read).seconds.toFixed(2)} s; piso de la máquina (JSON.parse + COPY sin índices)`,
  );
  const floor = await measureFloor(big!, store, url);
  progress(
    `carga: piso ${(floor.parseSeconds + floor.copySeconds).toFixed(2)} s; memoria con una respuesta de ${small!.lines} líneas`,
  );
  const memUrl = await recreateDatabase(serverUrl, 'ventas_bench_memory');
  const memory = await runEtlChild(sim, small!, store, { databaseUrl: memUrl });
  let pglite: LoadRateResult['pglite'] = null;
  if (options.pglite) {
    const cwd = join(workDir, 'pglite');
    rmSync(cwd, { recursive: true, force: true });
    mkdirSync(cwd, { recursive: true });
    progress('carga: referencia en PGlite (primera carga y recarga)');
    const pgFirst = await runEtlChild(sim, big!, store, { databaseUrl: '', cwd });
    const pgReload = await runEtlChild(sim, big!, store, { databaseUrl: '', cwd });
    pglite = { first: pgFirst, reload: pgReload };
    rmSync(cwd, { recursive: true, force: true });
  }
  sim.options.replay = null;
  const { file: _file, ...answer } = big!;
  return {
    answer,
    postgres: { first: medianRun(runs.first), reload: medianRun(runs.reload), read: medianRun(runs.read), runs },
    floor,
    pglite,
    memory: { answerLines: small!.lines, run: memory },
  };
}
