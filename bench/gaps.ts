/**
 * Figure 3 (gap report): `ventas gaps` for 19 stores x 365 days on a `ventas` table of at least 5 million rows,
 * against the seed's verification SQL on the same table.
 */
import type { Config } from '../src/catalogue/config.ts';
import { computeCoverage } from '../src/coverage/index.ts';
import { openDb } from '../src/db/index.ts';
import { addDays } from '../src/shared/dates.ts';
import { connect, median, progress, recreateDatabase } from './lib.ts';

/** The query at the end of the seed's plan ("Verificacion Post-Backfill"), verbatim. */
export const SEED_VERIFICATION_SQL = `
SELECT
    ubicacion_id,
    MIN(fecha_venta)::date as primera_venta,
    MAX(fecha_venta)::date as ultima_venta,
    COUNT(DISTINCT DATE(fecha_venta)) as dias_con_datos,
    (MAX(fecha_venta)::date - MIN(fecha_venta)::date + 1) as dias_rango,
    ROUND(100.0 * COUNT(DISTINCT DATE(fecha_venta)) /
          (MAX(fecha_venta)::date - MIN(fecha_venta)::date + 1), 1) as pct_cobertura
FROM ventas
WHERE ubicacion_id LIKE 'tienda_%'
GROUP BY ubicacion_id
ORDER BY pct_cobertura ASC;`;

const REPORT_DAYS = 365;
const LOOKBACK_DAYS = 35;
const MIN_ROWS = 5_000_000;
/** Rows per store-day: enough for 5 million rows over the window's store-days with data. */
const ROWS_PER_STORE_DAY = 800;

export interface GapsBenchResult {
  rows: number;
  storeDays: number;
  from: string;
  to: string;
  stores: number;
  report: { medianMs: number; runsMs: number[] };
  seedSql: { medianMs: number; runsMs: number[] };
  setupSeconds: number;
}

/**
 * Fills `ventas` with SQL alone: every store, every day of the window and the 35 before it (the report's baseline),
 * except closed days, days before a store opened, about 8 % of scattered holes and a 15-day hole common to all but
 * one store. The secondary indexes are dropped for the load and rebuilt after, as a bulk load would; the summary
 * is filled from the table as the loads would have left it.
 */
async function fillTable(
  url: string,
  config: Config,
  from: string,
  to: string,
): Promise<{ rows: number; storeDays: number }> {
  const client = await connect(url);
  try {
    const { rows: indexes } = await client.query<{ indexname: string; indexdef: string }>(
      `SELECT indexname, indexdef FROM pg_indexes
       WHERE schemaname = current_schema() AND tablename = 'ventas'
         AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = 'ventas'::regclass)`,
    );
    for (const index of indexes) await client.query(`DROP INDEX ${index.indexname}`);
    const stores = config.stores;
    await client.query(
      `INSERT INTO ventas (numero_factura, fecha_venta, ubicacion_id, almacen_codigo, almacen_nombre, producto_id,
         cantidad_vendida, peso_unitario, peso_calculado, total_cantidad_por_unidad_medida, unidad_medida_venta,
         factor_unidad_medida, precio_unitario, costo_unitario, venta_total, costo_total, utilidad_bruta, margen_bruto_pct)
       SELECT 'C' || lpad((1 + g % 12)::text, 2, '0') || '-01-' || lpad((d.n * 10000 + g)::text, 8, '0') || '_L' || (1 + g % 5),
              d.day + make_interval(secs => 25200 + g * 50),
              s.id, s.almacen, 'PISO DE VENTA', lpad(((g * 7919) % 3000)::text, 8, '0'),
              1 + g % 3, 0.5, 0.5 * (1 + g % 3), 1 + g % 3, 'UNIDAD', 1,
              1.5 + g % 7, 1 + g % 7 * 0.8, (1.5 + g % 7) * (1 + g % 3), (1 + g % 7 * 0.8) * (1 + g % 3),
              (0.5 + g % 7 * 0.2) * (1 + g % 3), 25
       FROM unnest($1::text[], $2::text[], $3::date[]) AS s(id, almacen, opened)
       CROSS JOIN generate_series($4::timestamp, $5::timestamp, interval '1 day') WITH ORDINALITY AS d(day, n)
       CROSS JOIN generate_series(1, $6::int) AS g
       WHERE to_char(d.day, 'MM-DD') NOT IN ('12-25', '01-01')
         AND (s.opened IS NULL OR d.day >= s.opened)
         AND (hashtext(s.id || d.day::date::text) & 1023) >= 82
         AND NOT (d.day BETWEEN '2026-01-10' AND '2026-01-24' AND s.id <> $7)`,
      [
        stores.map((s) => s.id),
        stores.map((s) => s.almacen),
        stores.map((s) => s.openedOn ?? null),
        addDays(from, -LOOKBACK_DAYS),
        to,
        ROWS_PER_STORE_DAY,
        stores[0]!.id,
      ],
    );
    for (const index of indexes) await client.query(index.indexdef);
    await client.query(
      `INSERT INTO store_days (store_id, day, lines, total_usd, klk_lines, klk_total_usd, whole_day_extracted_at, extracted_at)
       SELECT ubicacion_id, fecha_venta::date, count(*), sum(venta_total), count(*), sum(venta_total), now(), now()
       FROM ventas GROUP BY 1, 2`,
    );
    // As a table in service would be: statistics and visibility up to date, for both queries alike.
    await client.query('VACUUM (ANALYZE) ventas');
    await client.query('VACUUM (ANALYZE) store_days');
    const counts = await client.query<{ rows: number; days: number }>(
      `SELECT (SELECT count(*) FROM ventas)::int AS rows, (SELECT count(*) FROM store_days)::int AS days`,
    );
    return { rows: counts.rows[0]!.rows, storeDays: counts.rows[0]!.days };
  } finally {
    await client.end();
  }
}

export async function benchGaps(
  config: Config,
  serverUrl: string,
  options: { to: string; reportRuns: number; seedRuns: number },
): Promise<GapsBenchResult> {
  const to = options.to;
  const from = addDays(to, -(REPORT_DAYS - 1));
  const setupStarted = performance.now();
  progress(`huecos: se llena ventas con al menos ${MIN_ROWS.toLocaleString('es')} filas (SQL)`);
  const url = await recreateDatabase(serverUrl, 'ventas_bench_gaps');
  const db = await openDb({ databaseUrl: url });
  try {
    const { rows, storeDays } = await fillTable(url, config, from, to);
    if (rows < MIN_ROWS) throw new Error(`la tabla quedó con ${rows} filas, se necesitan al menos ${MIN_ROWS}`);
    const setupSeconds = (performance.now() - setupStarted) / 1000;
    progress(
      `huecos: ${rows.toLocaleString('es')} filas en ${setupSeconds.toFixed(0)} s; se mide el informe de huecos`,
    );
    const time = async (fn: () => Promise<unknown>) => {
      const started = performance.now();
      await fn();
      return performance.now() - started;
    };
    const report = () => computeCoverage(db, config, { from, to, stores: config.stores });
    // Warm-up: the first calls pay for the JIT compiling the report's code, not for reading the summary.
    for (let i = 0; i < 3; i++) await report();
    const reportRuns: number[] = [];
    for (let i = 0; i < options.reportRuns; i++) reportRuns.push(await time(report));
    progress(`huecos: informe ${median(reportRuns).toFixed(0)} ms; consulta de verificación de la semilla`);
    const seedRuns: number[] = [];
    for (let i = 0; i < options.seedRuns; i++) seedRuns.push(await time(() => db.query(SEED_VERIFICATION_SQL)));
    return {
      rows,
      storeDays,
      from,
      to,
      stores: config.stores.length,
      report: { medianMs: median(reportRuns), runsMs: reportRuns },
      seedSql: { medianMs: median(seedRuns), runsMs: seedRuns },
      setupSeconds,
    };
  } finally {
    await db.close();
  }
}
