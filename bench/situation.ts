/**
 * The seed's situation (src/demo/seed-situation.ts) written straight into the per-store-day summary, the only thing
 * the gap report and the planner read: present days with the simulator's usual volume for the day, partial days
 * with a tenth of it. What the backfill then fetches is exactly what it would fetch after the demo's history load.
 */
import type { Config } from '../src/catalogue/config.ts';
import type { Store } from '../src/catalogue/stores.ts';
import type { Queryable } from '../src/db/types.ts';
import { seedSituation, type StoreSituation } from '../src/demo/seed-situation.ts';
import { plannedLines, type SimWorld } from '../src/sim/index.ts';

/** Share of a store-day's lines sold from the sales floor (the rest is the second warehouse, about 3 %). */
const SALES_FLOOR_SHARE = 0.97;
/** Rough USD per line, for the summary's totals (nothing measured reads them). */
const USD_PER_LINE = 4;

export function situationOf(config: Config, stores: readonly Store[]): StoreSituation[] {
  const ids = new Set(stores.map((s) => s.id));
  return seedSituation(config.stores, config.closedDays).filter((s) => ids.has(s.storeId));
}

/** Usual sales-floor lines of a store-day at the world's scale. */
export function usualLines(world: SimWorld, store: Store, day: string): number {
  return Math.round(plannedLines(world, store, day) * SALES_FLOOR_SHARE);
}

export async function recordSituation(
  db: Queryable,
  world: SimWorld,
  stores: readonly Store[],
  situation: readonly StoreSituation[],
): Promise<void> {
  const byId = new Map(stores.map((s) => [s.id, s]));
  const rows: Array<[string, string, number, number | null]> = [];
  for (const s of situation) {
    const store = byId.get(s.storeId)!;
    for (const day of s.present)
      rows.push([s.storeId, day, usualLines(world, store, day), usualLines(world, store, day)]);
    for (const day of s.partial) rows.push([s.storeId, day, Math.round(usualLines(world, store, day) / 10), null]);
  }
  await db.query(
    `INSERT INTO store_days (store_id, day, lines, total_usd, klk_lines, klk_total_usd, whole_day_extracted_at, extracted_at)
     SELECT store_id, day, lines, lines * $5::numeric, klk_lines, klk_lines * $5::numeric,
            CASE WHEN klk_lines IS NULL THEN NULL ELSE now() END, now()
     FROM unnest($1::text[], $2::date[], $3::int[], $4::int[]) AS t(store_id, day, lines, klk_lines)`,
    [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2]), rows.map((r) => r[3]), USD_PER_LINE],
  );
}
