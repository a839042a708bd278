import type { Store } from '../../src/catalogue/stores.ts';
import { parseConfig, type Config } from '../../src/catalogue/config.ts';
import type { Db } from '../../src/db/types.ts';
import { eachDay } from '../../src/shared/dates.ts';
import type { RunningSimulator } from '../../src/sim/index.ts';
import { earlyHours, loadThroughEtl, wholeDays } from './etl.ts';

/** A small window with holes for backfill tests: 5 stores x 20 days, PARAISO opening inside it. */
export const HISTORY = { from: '2025-11-28', to: '2025-12-17' };
export const HISTORY_STORES = ['tienda_01', 'tienda_02', 'tienda_07', 'tienda_11', 'tienda_18'];

export function historyConfig(): Config {
  const config = parseConfig({});
  return { ...config, stores: config.stores.filter((s) => HISTORY_STORES.includes(s.id)) };
}

/** Which days each store has loaded: some holes at the start, a common gap at the end, a couple of partial days. */
function presentDays(store: Store): { whole: string[]; partial: string[] } {
  const days = eachDay(HISTORY.from, HISTORY.to).filter((d) => !store.openedOn || d >= store.openedOn);
  const commonGap = (d: string) => d >= '2025-12-14';
  switch (store.id) {
    case 'tienda_11':
      return { whole: days.filter((d) => d >= '2025-12-10' && !commonGap(d)), partial: [] };
    case 'tienda_07':
      return {
        whole: days.filter((d) => !commonGap(d) && !['2025-12-03', '2025-12-04', '2025-12-05'].includes(d)),
        partial: ['2025-12-04'],
      };
    case 'tienda_02':
      return {
        whole: days.filter((d) => !commonGap(d) && !['2025-12-01', '2025-12-02'].includes(d)),
        partial: ['2025-12-02'],
      };
    default:
      return { whole: days.filter((d) => !commonGap(d)), partial: [] };
  }
}

/** Loads the history through the ETL itself: whole present days, and partial days only 08:00-09:59. */
export async function loadHistory(db: Db, sim: RunningSimulator, config: Config): Promise<void> {
  await loadThroughEtl(
    db,
    sim.url,
    config.stores.map((store) => {
      const { whole, partial } = presentDays(store);
      return { store, intervals: [...whole.map((d) => wholeDays(d)), ...partial.map(earlyHours)] };
    }),
  );
}
