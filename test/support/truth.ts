import { expect } from 'vitest';
import type { Store } from '../../src/catalogue/stores.ts';
import type { Queryable } from '../../src/db/types.ts';
import { truthDays, type SimWorld } from '../../src/sim/index.ts';

export interface DayFigures {
  day: string;
  lines: number;
  usd: string;
}

/** What `ventas` holds per day for a store, straight from the table. */
export async function tableDays(db: Queryable, storeId: string, from: string, to: string): Promise<DayFigures[]> {
  const { rows } = await db.query<{ day: string; lines: number; usd: string }>(
    `SELECT to_char(fecha_venta, 'YYYY-MM-DD') AS day, count(*)::int AS lines, sum(venta_total)::numeric(18,4)::text AS usd
     FROM ventas WHERE ubicacion_id = $1 AND fecha_venta >= $2::date AND fecha_venta < $3::date + 1
     GROUP BY 1 ORDER BY 1`,
    [storeId, from, to],
  );
  return rows;
}

/** What the simulator says the store sold per day on its sales floor (days with sales only). */
export function truth(world: SimWorld, store: Store, from: string, to: string): DayFigures[] {
  return truthDays(world, store.sucursal, from, to, store.almacen)
    .filter((d) => d.lineas > 0)
    .map((d) => ({ day: d.fecha, lines: d.lineas, usd: d.venta_total_usd.toFixed(4) }));
}

/** Every store's days in the table equal the simulator's: lines and USD, day by day (one assertion per store). */
export async function expectTableEqualsKlk(
  db: Queryable,
  world: SimWorld,
  stores: readonly Store[],
  window: { from: string; to: string },
): Promise<void> {
  for (const store of stores) {
    expect(await tableDays(db, store.id, window.from, window.to), store.id).toEqual(
      truth(world, store, window.from, window.to),
    );
  }
}
