/**
 * Test data: a synthetic version of the seed's situation (seed/000_deb35f3228dee9e5.txt) as the planner's input,
 * and the seed's own script, to compare against. Deterministic.
 */
import { DEFAULT_CLOSED_DAYS, DEFAULT_STORES } from '../catalogue/stores.ts';
import { addDays, eachDay, monthDay, type IsoDate } from '../shared/dates.ts';
import { DEFAULT_CONCURRENCY, DEFAULT_LINE_BUDGET, DEFAULT_LINES_PER_DAY, DEFAULT_LOAD_TIMING, DEFAULT_TIMING, type PlanInput, type PlanStoreInput, type Priority } from './plan.ts';

export const SEED_FROM = '2025-10-28';
export const SEED_TO = '2026-01-25';
export const COMMON_GAP = { from: '2026-01-10', to: '2026-01-25' } as const;
export const PARAISO_OPENED = '2025-12-06';
/** A day KLK answered with 0 lines for GUACARA: an unrecorded closure. */
export const EMPTY_DAY = { store: 'tienda_09', day: '2025-11-15' } as const;

/** Observed lines per day (the simulator's store sizes); FLOR AMARILLO has too little history: unknown. */
const LINES_PER_DAY: Record<string, number | null> = {
  tienda_01: 9550, tienda_02: 11050, tienda_03: 12650, tienda_04: 10650, tienda_05: 12850, tienda_06: 13300,
  tienda_07: 12550, tienda_08: 8700, tienda_09: 13500, tienda_10: 7900, tienda_11: null, tienda_12: 12500,
  tienda_13: 11600, tienda_15: 9600, tienda_16: 11300, tienda_17: 7550, tienda_18: 7350, tienda_19: 9200, tienda_20: 9150,
};

/** Missing days outside the common gap, as the seed's table counts them (its total minus the 16 common days). */
const SCATTERED: Record<string, { count: number; from: IsoDate; to: IsoDate }> = {
  tienda_02: { count: 9, from: '2025-10-28', to: '2025-11-23' },
  tienda_03: { count: 3, from: '2025-10-28', to: '2025-12-09' },
  tienda_05: { count: 9, from: '2025-10-31', to: '2025-11-23' },
  tienda_07: { count: 4, from: '2025-10-28', to: '2025-12-03' },
  tienda_16: { count: 24, from: SEED_FROM, to: '2026-01-09' },
  tienda_15: { count: 20, from: SEED_FROM, to: '2026-01-09' },
  tienda_13: { count: 17, from: SEED_FROM, to: '2026-01-09' },
  tienda_10: { count: 16, from: SEED_FROM, to: '2026-01-09' },
  tienda_06: { count: 15, from: SEED_FROM, to: '2026-01-09' },
  tienda_08: { count: 14, from: SEED_FROM, to: '2026-01-09' },
  tienda_17: { count: 13, from: SEED_FROM, to: '2026-01-09' },
  tienda_12: { count: 13, from: SEED_FROM, to: '2026-01-09' },
  tienda_20: { count: 12, from: SEED_FROM, to: '2026-01-09' },
  tienda_19: { count: 10, from: SEED_FROM, to: '2026-01-09' },
  tienda_04: { count: 7, from: SEED_FROM, to: '2026-01-09' },
  tienda_09: { count: 5, from: SEED_FROM, to: '2026-01-09' },
  tienda_01: { count: 2, from: SEED_FROM, to: '2026-01-09' },
};

/** The seed's long December-January holes of its ALTA stores (to 2026-01-09, where the common gap starts). */
const BLOCKS: Record<string, Array<[IsoDate, IsoDate]>> = {
  tienda_07: [['2025-12-04', '2026-01-09']],
  tienda_02: [['2025-12-11', '2026-01-09']],
  tienda_03: [['2025-12-10', '2026-01-09']],
  tienda_05: [['2025-12-16', '2026-01-09']],
  tienda_18: [['2025-12-06', '2025-12-09'], ['2025-12-20', '2025-12-21']],
  tienda_11: [[SEED_FROM, '2026-01-24']],
};

/** Days with fewer lines than usual: requested like missing ones. */
const PARTIAL: Record<string, IsoDate> = {
  tienda_01: '2025-11-20',
  tienda_04: '2025-12-12',
  tienda_13: '2025-11-07',
  tienda_19: '2026-01-05',
  tienda_06: '2025-12-30',
};

/** mulberry32: a small deterministic generator, so the situation is the same on every run. */
export function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function priorityOf(coveragePct: number, anything: boolean): Priority {
  if (coveragePct < 48) return 'ALTA';
  if (coveragePct < 68) return 'MEDIA';
  return anything ? 'BAJA' : 'OK';
}

/** The planner's input for the seed's 19 stores over 2025-10-28..2026-01-25. */
export function seedSituation(overrides: Partial<PlanInput> = {}): PlanInput {
  const next = random(20260126);
  const window = eachDay(SEED_FROM, SEED_TO);
  const stores = DEFAULT_STORES.map((store): PlanStoreInput => {
    const unavailable = window.filter(
      (d) => DEFAULT_CLOSED_DAYS.includes(monthDay(d)) || (store.openedOn !== undefined && d < store.openedOn),
    );
    if (store.id === EMPTY_DAY.store) unavailable.push(EMPTY_DAY.day);
    const closed = new Set(unavailable);
    const missing = new Set<IsoDate>();
    const addRange = (from: IsoDate, to: IsoDate) => eachDay(from, to).filter((d) => !closed.has(d)).forEach((d) => missing.add(d));
    addRange(COMMON_GAP.from, store.id === 'tienda_11' ? addDays(COMMON_GAP.to, -1) : COMMON_GAP.to);
    for (const [from, to] of BLOCKS[store.id] ?? []) addRange(from, to);
    const scattered = SCATTERED[store.id];
    if (scattered) {
      const candidates = eachDay(scattered.from, scattered.to);
      let left = scattered.count;
      while (left > 0) {
        const start = Math.floor(next() * candidates.length);
        const length = Math.min(left, 1 + Math.floor(next() * 3));
        const run = candidates.slice(start, start + length);
        // Holes apart from each other and from closed days, so the counts stay exact.
        const around = [addDays(run[0]!, -1), ...run, addDays(run.at(-1)!, 1)];
        if (run.length !== length || around.some((d) => missing.has(d) || closed.has(d))) continue;
        run.forEach((d) => missing.add(d));
        left -= length;
      }
    }
    const partialDay = PARTIAL[store.id];
    if (partialDay) missing.delete(partialDay);
    const targets = [
      ...[...missing].map((day) => ({ day, state: 'missing' as const })),
      ...(partialDay ? [{ day: partialDay, state: 'partial' as const }] : []),
    ].sort((a, b) => a.day.localeCompare(b.day));
    const expectedDays = window.length - unavailable.length;
    const daysWithData = expectedDays - missing.size;
    const coveragePct = Math.round((daysWithData / expectedDays) * 1000) / 10;
    return {
      id: store.id,
      name: store.name,
      priority: priorityOf(coveragePct, targets.length > 0),
      isNew: store.id === 'tienda_11' || store.openedOn !== undefined,
      coveragePct,
      missingDays: missing.size,
      partialDays: partialDay ? 1 : 0,
      linesPerDay: LINES_PER_DAY[store.id] ?? null,
      historyLinesPerDay: null,
      targets,
      unavailable: unavailable.sort(),
    };
  });
  return {
    from: SEED_FROM,
    to: SEED_TO,
    stores,
    commonGaps: [{ ...COMMON_GAP, stores: stores.map((s) => s.id) }],
    lineBudget: DEFAULT_LINE_BUDGET,
    defaultLinesPerDay: DEFAULT_LINES_PER_DAY,
    timing: { ...DEFAULT_TIMING, model: 'default', samples: 0, load: { ...DEFAULT_LOAD_TIMING } },
    concurrency: DEFAULT_CONCURRENCY,
    ...overrides,
  };
}

/** The seed's "Script Completo de Ejecucion": each invocation's store count, window and chunk size. */
export const SEED_SCRIPT: ReadonlyArray<{ stores: number; from: IsoDate; to: IsoDate; chunkDays: number }> = [
  { stores: 19, from: '2026-01-10', to: '2026-01-25', chunkDays: 2 },
  { stores: 1, from: '2025-10-28', to: '2026-01-09', chunkDays: 3 },
  { stores: 1, from: '2025-12-04', to: '2026-01-09', chunkDays: 3 },
  { stores: 1, from: '2025-10-28', to: '2026-01-09', chunkDays: 3 },
  { stores: 1, from: '2025-12-10', to: '2026-01-09', chunkDays: 3 },
  { stores: 1, from: '2025-10-31', to: '2026-01-09', chunkDays: 3 },
  { stores: 1, from: '2025-10-28', to: '2025-12-05', chunkDays: 5 },
  { stores: 13, from: '2025-10-28', to: '2026-01-09', chunkDays: 5 },
];
