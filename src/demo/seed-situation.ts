import { closedReason } from '../catalogue/calendar.ts';
import type { Store } from '../catalogue/stores.ts';
import { eachDay, type IsoDate } from '../shared/dates.ts';

/**
 * The situation of the users' hand-written plan of 2026-01-26 (the plan this tool replaces), as data: which store-days were in the
 * table and which were not. The demo loads the present ones through the ETL itself, so the holes are real holes.
 */
export const SEED_FROM = '2025-10-28';
export const SEED_TO = '2026-01-25';
const COMMON_GAP: [IsoDate, IsoDate] = ['2026-01-10', '2026-01-25'];

interface StoreHoles {
  /** Missing store-days the seed's table reports (its "Dias Faltantes"), common gap included. */
  missing: number;
  /** Ranges the seed's plan names for this store. */
  ranges?: Array<[IsoDate, IsoDate]>;
  /** Where the remaining scattered holes fall. */
  scatter?: [IsoDate, IsoDate];
  /** Days loaded only for a couple of hours (partial). */
  partial?: number;
  /** Days of the window present even inside the common gap. */
  present?: IsoDate[];
}

const HOLES: Record<string, StoreHoles> = {
  tienda_11: { missing: 87, present: ['2026-01-25'] }, // FLOR AMARILLO, just added to the system
  tienda_07: { missing: 55, ranges: [['2025-12-04', '2026-01-09']] },
  tienda_02: { missing: 53, ranges: [['2025-12-11', '2026-01-09']], scatter: ['2025-10-28', '2025-11-23'] },
  tienda_03: { missing: 48, ranges: [['2025-12-10', '2026-01-09']] },
  tienda_05: { missing: 48, ranges: [['2025-12-16', '2026-01-09']], scatter: ['2025-10-31', '2025-11-23'] },
  tienda_18: { missing: 19 }, // PARAISO opened 2025-12-06: the seed's plan asked for five weeks before that
  tienda_16: { missing: 40, partial: 1 },
  tienda_15: { missing: 36 },
  tienda_13: { missing: 33 },
  tienda_10: { missing: 32, partial: 1 },
  tienda_06: { missing: 31 },
  tienda_08: { missing: 30 },
  tienda_17: { missing: 29 },
  tienda_12: { missing: 29 },
  tienda_20: { missing: 28, partial: 2 },
  tienda_19: { missing: 26 },
  tienda_04: { missing: 23, partial: 1 },
  tienda_09: { missing: 21 },
  tienda_01: { missing: 18 },
};

export interface StoreSituation {
  storeId: string;
  /** Whole days in the table. */
  present: IsoDate[];
  /** Days in the table only for 08:00-09:59. */
  partial: IsoDate[];
  missing: IsoDate[];
}

/** A stable pseudo-random order of days, so the scattered holes are the same on every machine. */
function scatterOrder(storeId: string, days: IsoDate[]): IsoDate[] {
  const key = (d: string) => {
    let h = 2166136261;
    for (const c of `${storeId}:${d}`) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
    return h >>> 0;
  };
  return [...days].sort((a, b) => key(a) - key(b));
}

export function seedSituation(stores: readonly Store[], chainClosedDays: readonly string[]): StoreSituation[] {
  return stores.map((store) => {
    const spec = HOLES[store.id] ?? { missing: 0 };
    const expected = eachDay(SEED_FROM, SEED_TO).filter((d) => closedReason(store, d, chainClosedDays) === null);
    const inRange = (d: IsoDate, [a, b]: [IsoDate, IsoDate]) => d >= a && d <= b;
    const missing = new Set(
      expected.filter(
        (d) =>
          !spec.present?.includes(d) &&
          (spec.present ? true : inRange(d, COMMON_GAP) || spec.ranges?.some((r) => inRange(d, r))),
      ),
    );
    const scatter = spec.scatter ?? ['2025-10-28', '2026-01-09'];
    const candidates = scatterOrder(
      store.id,
      expected.filter((d) => !missing.has(d) && inRange(d, scatter)),
    );
    for (const d of candidates) {
      if (missing.size >= spec.missing) break;
      missing.add(d);
    }
    const remaining = scatterOrder(
      `${store.id}:partial`,
      expected.filter((d) => !missing.has(d) && !inRange(d, COMMON_GAP)),
    );
    const partial = remaining.slice(0, spec.partial ?? 0).sort();
    return {
      storeId: store.id,
      missing: [...missing].sort(),
      partial,
      present: expected.filter((d) => !missing.has(d) && !partial.includes(d)),
    };
  });
}
