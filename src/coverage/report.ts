/**
 * The coverage report (spec section 4): per-store figures, priorities and patterns from the day states. Pure.
 */
import type { Thresholds } from '../catalogue/config.ts';
import type { Store } from '../catalogue/stores.ts';
import { daysBetween, eachDay, monthDay, type IsoDate } from '../shared/dates.ts';
import { classifyStoreDays, isExpected, type DayCell, type StoreDayRow } from './states.ts';

export type Priority = 'ALTA' | 'MEDIA' | 'BAJA' | 'OK';

/** Consecutive missing days; closed and empty days inside do not break it. `days` counts the missing days only. */
export interface MissingRange {
  from: IsoDate;
  to: IsoDate;
  days: number;
}

export interface StoreCoverage {
  store: string;
  name: string;
  expectedDays: number;
  daysWithData: number;
  missingDays: number;
  partialDays: number;
  coveragePct: number;
  priority: Priority;
  isNew: boolean;
  firstSale: IsoDate | null;
  lastSale: IsoDate | null;
  missing: IsoDate[];
  partial: IsoDate[];
  missingRanges: MissingRange[];
}

export interface CommonGap {
  from: IsoDate;
  to: IsoDate;
  /** Stores missing on at least one day of the run, sorted. */
  stores: string[];
}

/** A common gap with the figures the renderers print (not part of the JSON). */
export interface CommonGapDetail extends CommonGap {
  /** Days of the run that count: days on which at least one store was expected. */
  days: number;
  /** Stores expected on at least one day of the run. */
  expectedStores: number;
}

export interface CoverageTotals {
  expectedStoreDays: number;
  missingStoreDays: number;
  partialStoreDays: number;
}

/** Exactly the JSON of spec section 4. */
export interface CoverageJson {
  from: IsoDate;
  to: IsoDate;
  stores: StoreCoverage[];
  patterns: { commonGaps: CommonGap[]; closedDays: IsoDate[]; newStores: string[] };
  totals: CoverageTotals;
}

export interface CoverageReport extends CoverageJson {
  patterns: { commonGaps: CommonGapDetail[]; closedDays: IsoDate[]; newStores: string[] };
  /** Each store's cells for every day of the window, in the order of the input stores (heatmap, planner). */
  days: Record<string, DayCell[]>;
}

export interface CoverageInput {
  stores: readonly Store[];
  chainClosedDays: readonly string[];
  thresholds: Thresholds;
  from: IsoDate;
  to: IsoDate;
  /** `store_days` rows; days before `from` feed the weekday baseline. */
  rows: readonly StoreDayRow[];
  /** First and last day with rows ever, per store id (absent or null when none). */
  firstSales: Readonly<Record<string, IsoDate | null>>;
  lastSales: Readonly<Record<string, IsoDate | null>>;
}

/** Percentage with one decimal; 100 when nothing is expected (nothing can be missing). */
export function coveragePct(daysWithData: number, expectedDays: number): number {
  return expectedDays === 0 ? 100 : Math.round((daysWithData * 1000) / expectedDays) / 10;
}

/** Priority from the shown (rounded) coverage, so the figure and its label never disagree at an edge. */
export function priorityOf(pct: number, gaps: number, thresholds: Pick<Thresholds, 'alta' | 'media'>): Priority {
  if (pct < thresholds.alta) return 'ALTA';
  if (pct < thresholds.media) return 'MEDIA';
  return gaps > 0 ? 'BAJA' : 'OK';
}

export function missingRanges(cells: readonly DayCell[]): MissingRange[] {
  const ranges: MissingRange[] = [];
  let open: MissingRange | null = null;
  for (const cell of cells) {
    if (cell.state === 'missing') {
      if (open) {
        open.to = cell.day;
        open.days++;
      } else {
        open = { from: cell.day, to: cell.day, days: 1 };
        ranges.push(open);
      }
    } else if (cell.state === 'partial' || cell.state === 'complete') {
      open = null;
    }
  }
  return ranges;
}

function isNewStore(store: Store, firstSale: IsoDate | null, input: CoverageInput): boolean {
  if (store.openedOn && store.openedOn >= input.from && store.openedOn <= input.to) return true;
  return firstSale !== null && daysBetween(input.from, firstSale) > input.thresholds.newStoreDays;
}

function storeCoverage(store: Store, cells: readonly DayCell[], input: CoverageInput): StoreCoverage {
  const missing = cells.filter((c) => c.state === 'missing').map((c) => c.day);
  const partial = cells.filter((c) => c.state === 'partial').map((c) => c.day);
  const expectedDays = cells.filter((c) => isExpected(c.state)).length;
  const daysWithData = expectedDays - missing.length;
  const pct = coveragePct(daysWithData, expectedDays);
  const firstSale = input.firstSales[store.id] ?? null;
  return {
    store: store.id,
    name: store.name,
    expectedDays,
    daysWithData,
    missingDays: missing.length,
    partialDays: partial.length,
    coveragePct: pct,
    priority: priorityOf(pct, missing.length + partial.length, input.thresholds),
    isNew: isNewStore(store, firstSale, input),
    firstSale,
    lastSale: input.lastSales[store.id] ?? null,
    missing,
    partial,
    missingRanges: missingRanges(cells),
  };
}

/**
 * Runs of at least 2 days on which at least `share` of the expected stores are missing, longest first. Days on which
 * no store is expected neither count nor break a run.
 */
export function commonGaps(
  days: Readonly<Record<string, readonly DayCell[]>>,
  window: readonly IsoDate[],
  share: number,
): CommonGapDetail[] {
  const columns = Object.entries(days);
  const gaps: CommonGapDetail[] = [];
  let run: { from: IsoDate; to: IsoDate; days: number; missing: Set<string>; expected: Set<string> } | null = null;
  const closeRun = () => {
    if (run && run.days >= 2) {
      const { from, to, days: length, missing, expected } = run;
      gaps.push({ from, to, stores: [...missing].sort(), days: length, expectedStores: expected.size });
    }
    run = null;
  };
  for (const [i, day] of window.entries()) {
    const expected = columns.filter(([, cells]) => isExpected(cells[i]?.state ?? 'closed')).map(([id]) => id);
    if (expected.length === 0) continue;
    const missing = columns.filter(([, cells]) => cells[i]?.state === 'missing').map(([id]) => id);
    if (missing.length / expected.length < share) {
      closeRun();
      continue;
    }
    run ??= { from: day, to: day, days: 0, missing: new Set(), expected: new Set() };
    run.to = day;
    run.days++;
    for (const id of missing) run.missing.add(id);
    for (const id of expected) run.expected.add(id);
  }
  closeRun();
  return gaps.sort((a, b) => b.days - a.days || a.from.localeCompare(b.from));
}

export function buildCoverage(input: CoverageInput): CoverageReport {
  const window = eachDay(input.from, input.to);
  const rowsByStore = new Map<string, StoreDayRow[]>();
  for (const row of input.rows) {
    const list = rowsByStore.get(row.storeId);
    if (list) list.push(row);
    else rowsByStore.set(row.storeId, [row]);
  }

  const days: Record<string, DayCell[]> = {};
  const stores: StoreCoverage[] = [];
  for (const store of input.stores) {
    const cells = classifyStoreDays({
      store,
      chainClosedDays: input.chainClosedDays,
      partialRatio: input.thresholds.partialRatio,
      from: input.from,
      to: input.to,
      rows: rowsByStore.get(store.id) ?? [],
    });
    days[store.id] = cells;
    stores.push(storeCoverage(store, cells, input));
  }
  stores.sort((a, b) => a.coveragePct - b.coveragePct || a.store.localeCompare(b.store));

  const closedDays = window.filter(
    (day) => input.chainClosedDays.includes(day) || input.chainClosedDays.includes(monthDay(day)),
  );
  return {
    from: input.from,
    to: input.to,
    stores,
    patterns: {
      commonGaps: commonGaps(days, window, input.thresholds.commonGapShare),
      closedDays,
      newStores: stores
        .filter((s) => s.isNew)
        .map((s) => s.store)
        .sort(),
    },
    totals: {
      expectedStoreDays: stores.reduce((n, s) => n + s.expectedDays, 0),
      missingStoreDays: stores.reduce((n, s) => n + s.missingDays, 0),
      partialStoreDays: stores.reduce((n, s) => n + s.partialDays, 0),
    },
    days,
  };
}

/** The spec's JSON object, keys in the spec's order, nothing else. */
export function toJson(report: CoverageReport): CoverageJson {
  return {
    from: report.from,
    to: report.to,
    stores: report.stores.map((s) => ({
      store: s.store,
      name: s.name,
      expectedDays: s.expectedDays,
      daysWithData: s.daysWithData,
      missingDays: s.missingDays,
      partialDays: s.partialDays,
      coveragePct: s.coveragePct,
      priority: s.priority,
      isNew: s.isNew,
      firstSale: s.firstSale,
      lastSale: s.lastSale,
      missing: [...s.missing],
      partial: [...s.partial],
      missingRanges: s.missingRanges.map((r) => ({ from: r.from, to: r.to, days: r.days })),
    })),
    patterns: {
      commonGaps: report.patterns.commonGaps.map((g) => ({ from: g.from, to: g.to, stores: [...g.stores] })),
      closedDays: [...report.patterns.closedDays],
      newStores: [...report.patterns.newStores],
    },
    totals: {
      expectedStoreDays: report.totals.expectedStoreDays,
      missingStoreDays: report.totals.missingStoreDays,
      partialStoreDays: report.totals.partialStoreDays,
    },
  };
}
