/**
 * The users' table: the same 200,000-line answer loaded by `ventas etl` into a `ventas` shaped and indexed as
 * Fluxion's is in production (klk-api.md §5: its columns, the primary key on id, the unique key and its 8 other
 * indexes), against the floor measured in the same run: a plain COPY of the same rows into an identical empty
 * table. First load, re-load of the unchanged answer (no row rewritten: its xmin and the table's n_tup_upd), and
 * the WAL each writes.
 *
 * The load writes to the table named `ventas` and nothing else; its migration adopts a `ventas` that already
 * exists (columns added when missing, the unique key reused when present under another name). So the bench
 * creates Fluxion's table as production has it and lets the tool's migration adopt it, which adds the one index
 * of its own, (ubicacion_id, fecha_venta): the table the load then writes has 11 indexes.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Store } from '../src/catalogue/stores.ts';
import { openDb } from '../src/db/index.ts';
import { VENTAS_COLUMNS } from '../src/load/rows.ts';
import type { RunningSimulator } from '../src/sim/index.ts';
import { connect, emptyDatabase, progress } from './lib.ts';
import { copyText, RUNS, runEtlChild, withWal, type EtlRun, type SavedAnswer } from './load-rate.ts';

export const FLUXION_DATABASE = 'ventas_bench_users';

/** Fluxion's `ventas` as production has it (klk-api.md §5). */
const FLUXION_DDL = `
CREATE TABLE ventas (
  id bigserial PRIMARY KEY,
  numero_factura varchar(100) NOT NULL,
  fecha_venta timestamp NOT NULL,
  ubicacion_id varchar(50) NOT NULL,
  almacen_codigo varchar(50),
  almacen_nombre varchar(100),
  producto_id varchar(50),
  cuadrante_producto varchar(50),
  cantidad_vendida numeric(18,4),
  peso_unitario numeric(18,4),
  peso_calculado numeric(18,4),
  total_cantidad_por_unidad_medida numeric(18,4),
  unidad_medida_venta varchar(20),
  factor_unidad_medida numeric(18,4),
  precio_unitario numeric(18,4),
  costo_unitario numeric(18,4),
  venta_total numeric(18,4),
  costo_total numeric(18,4),
  utilidad_bruta numeric(18,4),
  margen_bruto_pct numeric(8,2),
  fecha_creacion timestamp DEFAULT now(),
  CONSTRAINT ventas_numero_factura_ubicacion_key UNIQUE (numero_factura, ubicacion_id)
);
CREATE INDEX idx_ventas_fecha ON ventas (fecha_venta DESC);
CREATE INDEX idx_ventas_ubicacion ON ventas (ubicacion_id);
CREATE INDEX idx_ventas_producto ON ventas (producto_id);
CREATE INDEX idx_ventas_ubicacion_fecha ON ventas (ubicacion_id, fecha_venta DESC);
CREATE INDEX idx_ventas_producto_fecha ON ventas (producto_id, fecha_venta DESC);
CREATE INDEX idx_ventas_ubicacion_producto ON ventas (ubicacion_id, producto_id);
CREATE INDEX idx_ventas_fecha_dia ON ventas ((fecha_venta::date));
CREATE INDEX idx_ventas_abc_xyz ON ventas (ubicacion_id, producto_id, fecha_venta, cantidad_vendida, venta_total);
`;

/** The old loader's rate on this table (klk-api.md), and how many times faster the goal is. */
export const OLD_LOADER_LINES_PER_SECOND = 13_000;
export const OLD_LOADER_SPEEDUP_GOAL = 3.5;
/** What a re-load that writes nothing may still write: the run's own records (history, requests, summary). */
export const BOOKKEEPING_WAL_BYTES = 1024 * 1024;

export interface TableStats {
  inserted: number;
  updated: number;
  hotUpdated: number;
  deleted: number;
}

/** WAL records that touch this database's relations, by resource manager (pg_walinspect). */
export interface OwnWal {
  bytes: number;
  fpiBytes: number;
  records: number;
  byKind: Array<{ kind: string; records: number; bytes: number; fpiBytes: number }>;
}

export interface FluxionRun {
  floor: { copySeconds: number; walBytes: number; parseSeconds: number };
  first: EtlRun;
  reload: EtlRun;
  /** Rows whose xmin changed during the re-load (a rewritten row has a new version). */
  reloadRewrittenRows: number;
  /** pg_stat_user_tables of ventas during the re-load. */
  reloadStats: TableStats;
  /**
   * The server's WAL counts every database's writes; on a shared server these are the re-load's own (its records
   * that name a relation of this database; commit records name none). null without pg_walinspect.
   */
  reloadOwnWal: OwnWal | null;
}

export interface FluxionResult {
  answerLines: number;
  indexes: string[];
  runs: FluxionRun[];
}

async function tableStats(url: string): Promise<TableStats> {
  const client = await connect(url);
  try {
    // The child's backend flushes its counters as it exits: wait until it has gone.
    for (let i = 0; i < 50; i++) {
      const { rows } = await client.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
      );
      if (rows[0]!.n === 0) break;
      await sleep(100);
    }
    await sleep(200);
    await client.query('SELECT pg_stat_clear_snapshot()');
    const { rows } = await client.query<{ ins: string; upd: string; hot: string; del: string }>(
      `SELECT n_tup_ins::text AS ins, n_tup_upd::text AS upd, n_tup_hot_upd::text AS hot, n_tup_del::text AS del
       FROM pg_stat_user_tables WHERE relname = 'ventas'`,
    );
    const r = rows[0]!;
    return { inserted: Number(r.ins), updated: Number(r.upd), hotUpdated: Number(r.hot), deleted: Number(r.del) };
  } finally {
    await client.end();
  }
}

async function ownWal(url: string, range: [string, string] | undefined): Promise<OwnWal | null> {
  if (!range) return null;
  const client = await connect(url);
  try {
    await client.query('CREATE EXTENSION IF NOT EXISTS pg_walinspect');
    const { rows } = await client.query<{ kind: string; records: number; bytes: string; fpi: string }>(
      `SELECT resource_manager || ' ' || record_type AS kind, count(*)::int AS records,
              sum(record_length)::bigint::text AS bytes, sum(fpi_length)::bigint::text AS fpi
       FROM pg_get_wal_records_info($1::pg_lsn, $2::pg_lsn)
       WHERE block_ref LIKE '%/' || (SELECT oid FROM pg_database WHERE datname = current_database()) || '/%'
       GROUP BY 1 ORDER BY sum(record_length) DESC`,
      range,
    );
    const byKind = rows.map((r) => ({
      kind: r.kind,
      records: r.records,
      bytes: Number(r.bytes),
      fpiBytes: Number(r.fpi),
    }));
    return {
      bytes: byKind.reduce((n, k) => n + k.bytes, 0),
      fpiBytes: byKind.reduce((n, k) => n + k.fpiBytes, 0),
      records: byKind.reduce((n, k) => n + k.records, 0),
      byKind,
    };
  } catch {
    return null;
  } finally {
    await client.end();
  }
}

/** The distinct xmins of ventas's rows (one per load transaction: few). */
async function xmins(url: string): Promise<string[]> {
  const client = await connect(url);
  try {
    const { rows } = await client.query<{ x: string }>('SELECT DISTINCT xmin::text AS x FROM ventas');
    return rows.map((r) => r.x);
  } finally {
    await client.end();
  }
}

async function rowsWithNewXmin(url: string, before: string[]): Promise<number> {
  const client = await connect(url);
  try {
    const { rows } = await client.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM ventas WHERE NOT (xmin::text = ANY($1::text[]))',
      [before],
    );
    return rows[0]!.n;
  } finally {
    await client.end();
  }
}

/** Fluxion's table adopted by the tool's migration; returns the indexes the load will write. */
async function prepare(serverUrl: string): Promise<{ url: string; indexes: string[] }> {
  const url = await emptyDatabase(serverUrl, FLUXION_DATABASE);
  const client = await connect(url);
  try {
    await client.query(FLUXION_DDL);
  } finally {
    await client.end();
  }
  const db = await openDb({ databaseUrl: url });
  try {
    const { rows } = await db.query<{ def: string }>(
      "SELECT indexdef AS def FROM pg_indexes WHERE tablename = 'ventas' ORDER BY indexname",
    );
    return { url, indexes: rows.map((r) => r.def) };
  } finally {
    await db.close();
  }
}

/** A plain COPY of the answer's rows into an empty copy of ventas (same columns, defaults, keys and indexes). */
async function measureCopyFloor(
  url: string,
  chunks: Buffer[],
  lines: number,
): Promise<{ copySeconds: number; walBytes: number }> {
  const db = await openDb({ databaseUrl: url, migrate: false });
  try {
    await db.exec('DROP TABLE IF EXISTS bench_floor_fluxion');
    await db.exec('CREATE TABLE bench_floor_fluxion (LIKE ventas INCLUDING ALL)');
    let copySeconds = 0;
    const run = await withWal(url, async () => {
      const started = performance.now();
      await db.copyFrom(
        'bench_floor_fluxion',
        VENTAS_COLUMNS.map(([name]) => name),
        chunks,
      );
      copySeconds = (performance.now() - started) / 1000;
      return { seconds: copySeconds, lines, inserted: lines, unchanged: 0, maxRssBytes: null };
    });
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM bench_floor_fluxion');
    if (rows[0]!.n !== lines) throw new Error(`el piso copió ${rows[0]!.n} filas de ${lines}`);
    await db.exec('DROP TABLE bench_floor_fluxion');
    await db.exec('CHECKPOINT');
    return { copySeconds, walBytes: run.walBytes! };
  } finally {
    await db.close();
  }
}

export async function benchFluxion(
  sim: RunningSimulator,
  answer: SavedAnswer,
  store: Store,
  serverUrl: string,
): Promise<FluxionResult> {
  const { chunks, lines, parseSeconds } = copyText(answer, store);
  if (lines !== answer.lines) throw new Error(`el texto de COPY tiene ${lines} filas de ${answer.lines}`);
  const runs: FluxionRun[] = [];
  let indexes: string[] = [];
  for (let i = 1; i <= RUNS; i++) {
    const prepared = await prepare(serverUrl);
    const url = prepared.url;
    indexes = prepared.indexes;
    progress(`tabla de Fluxion ${i}/${RUNS}: COPY simple a una copia vacía (${indexes.length} índices)`);
    const floor = { ...(await measureCopyFloor(url, chunks, lines)), parseSeconds };
    progress(`tabla de Fluxion ${i}/${RUNS}: piso ${floor.copySeconds.toFixed(2)} s; primera carga con ventas etl`);
    const first = await withWal(url, () => runEtlChild(sim, answer, store, { databaseUrl: url }));
    if (first.inserted !== lines) throw new Error(`la primera carga insertó ${first.inserted} de ${lines}`);
    const before = await xmins(url);
    const statsBefore = await tableStats(url);
    progress(`tabla de Fluxion ${i}/${RUNS}: ${first.seconds.toFixed(2)} s; recarga sin cambios`);
    const reload = await withWal(url, () => runEtlChild(sim, answer, store, { databaseUrl: url }));
    const statsAfter = await tableStats(url);
    const run: FluxionRun = {
      floor,
      first,
      reload,
      reloadRewrittenRows: await rowsWithNewXmin(url, before),
      reloadOwnWal: await ownWal(url, reload.walRange),
      reloadStats: {
        inserted: statsAfter.inserted - statsBefore.inserted,
        updated: statsAfter.updated - statsBefore.updated,
        hotUpdated: statsAfter.hotUpdated - statsBefore.hotUpdated,
        deleted: statsAfter.deleted - statsBefore.deleted,
      },
    };
    runs.push(run);
    progress(
      `tabla de Fluxion ${i}/${RUNS}: recarga ${reload.seconds.toFixed(2)} s, ${run.reloadRewrittenRows} filas reescritas`,
    );
  }
  return { answerLines: lines, indexes, runs };
}
