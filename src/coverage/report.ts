/**
 * The coverage report: per-store figures, priorities and patterns from the day states. Pure.
 */
import type { Thresholds } from '../catalogue/config.ts';
import type { Store } from '../catalogue/stores.ts';
import { addDays, daysBetween, eachDay, monthDay, type IsoDate } from '../shared/dates.ts';
import { classifyStoreDays, isExpected, type DayCell, type DayState, type StoreDayRow, type UnprovenEmpty } from './states.ts';

export type Priority = 'ALTA' | 'MEDIA' | 'BAJA' | 'OK';

/**
 * Consecutive missing days; closed, empty and future days inside do not break it (a day with data or rejected lines
 * does). `days` counts the missing days only.
 */
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
  /** Expected days whose every line KLK sent was quarantined: not complete, not planned again. */
  rejectedDays: number;
  coveragePct: number;
  priority: Priority;
  /** Evidence says the store is new: its catalogue opening, or KLK's 0 lines on every day before its first sale. */
  isNew: boolean;
  /** Its first recorded sale is late but nothing proves the store new: the early days stay missing. */
  suspectedNew: boolean;
  firstSale: IsoDate | null;
  lastSale: IsoDate | null;
  missing: IsoDate[];
  partial: IsoDate[];
  rejected: IsoDate[];
  /** Missing days KLK answered with 0 lines that do not prove them empty yet, and why (a subset of `missing`). */
  unprovenEmpty: Array<Omit<UnprovenEmpty, 'confirmFromLocal'> & { day: IsoDate; confirmFromLocal?: string | null }>;
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

/** The report's totals in its JSON, also the before/after figures a backfill records. */
export interface CoverageTotals {
  expectedStoreDays: number;
  missingStoreDays: number;
  partialStoreDays: number;
}

/** The report's totals: those of its JSON, then the rejected and the future store-days. */
export interface ReportTotals extends CoverageTotals {
  rejectedStoreDays: number;
  /** Store-days of the window not over yet: left out of every other figure. */
  futureStoreDays: number;
}

export interface CoveragePatterns<Gap extends CommonGap = CommonGap> {
  commonGaps: Gap[];
  closedDays: IsoDate[];
  newStores: string[];
  suspectedNewStores: string[];
}

/** Exactly the JSON of `ventas gaps --format json` and `GET /api/gaps`. */
export interface CoverageJson {
  from: IsoDate;
  to: IsoDate;
  stores: StoreCoverage[];
  patterns: CoveragePatterns;
  totals: ReportTotals;
}

export interface CoverageReport extends CoverageJson {
  patterns: CoveragePatterns<CommonGapDetail>;
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
  /** The current instant: days not over yet in each store's time zone are `future`. */
  now: Date;
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
    } else if (cell.state === 'partial' || cell.state === 'complete' || cell.state === 'rejected') {
      open = null;
    }
  }
  return ranges;
}

/**
 * Whether a store is new, on evidence only: the catalogue's `openedOn` inside the window or at most `newStoreDays`
 * before `from`, or KLK's own answer of 0 lines on every expected day of the window before the first sale. A first
 * sale more than `newStoreDays` after `from` without that evidence only makes it suspected, unless KLK already
 * reported lines on one of those days (then it is known not to be new).
 */
export function newStoreEvidence(
  store: Store,
  cells: readonly DayCell[],
  firstSale: IsoDate | null,
  window: { from: IsoDate; to: IsoDate; newStoreDays: number },
): { isNew: boolean; suspectedNew: boolean } {
  const { from, to, newStoreDays } = window;
  if (store.openedOn) return { isNew: store.openedOn >= addDays(from, -newStoreDays) && store.openedOn <= to, suspectedNew: false };
  if (firstSale === null || firstSale <= from) return { isNew: false, suspectedNew: false };
  const before = cells.filter((c) => c.day < firstSale && c.state !== 'closed' && c.state !== 'future');
  if (before.length > 0 && before.every((c) => c.state === 'empty')) return { isNew: true, suspectedNew: false };
  const klkHadLines = before.some((c) => (c.klkLines ?? 0) > 0 || c.rejectedLines > 0);
  return { isNew: false, suspectedNew: !klkHadLines && daysBetween(from, firstSale) > newStoreDays };
}

function storeCoverage(store: Store, cells: readonly DayCell[], input: CoverageInput): StoreCoverage {
  const daysIn = (state: DayState) => cells.filter((c) => c.state === state).map((c) => c.day);
  const [missing, partial, rejected] = [daysIn('missing'), daysIn('partial'), daysIn('rejected')];
  const expectedDays = cells.filter((c) => isExpected(c.state)).length;
  const daysWithData = expectedDays - missing.length - rejected.length;
  const pct = coveragePct(daysWithData, expectedDays);
  const firstSale = input.firstSales[store.id] ?? null;
  const window = { from: input.from, to: input.to, newStoreDays: input.thresholds.newStoreDays };
  return {
    store: store.id,
    name: store.name,
    expectedDays,
    daysWithData,
    missingDays: missing.length,
    partialDays: partial.length,
    rejectedDays: rejected.length,
    coveragePct: pct,
    priority: priorityOf(pct, missing.length + partial.length + rejected.length, input.thresholds),
    ...newStoreEvidence(store, cells, firstSale, window),
    firstSale,
    lastSale: input.lastSales[store.id] ?? null,
    missing,
    partial,
    rejected,
    unprovenEmpty: cells.flatMap((c) => (c.unprovenEmpty ? [{ day: c.day, ...c.unprovenEmpty }] : [])),
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
  let futureStoreDays = 0;
  for (const store of input.stores) {
    const cells = classifyStoreDays({
      store,
      chainClosedDays: input.chainClosedDays,
      partialRatio: input.thresholds.partialRatio,
      from: input.from,
      to: input.to,
      rows: rowsByStore.get(store.id) ?? [],
      now: input.now,
    });
    days[store.id] = cells;
    stores.push(storeCoverage(store, cells, input));
    futureStoreDays += cells.filter((c) => c.state === 'future').length;
  }
  const storesWhere = (test: (s: StoreCoverage) => boolean) =>
    stores
      .filter(test)
      .map((s) => s.store)
      .sort();
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
      newStores: storesWhere((s) => s.isNew),
      suspectedNewStores: storesWhere((s) => s.suspectedNew),
    },
    totals: {
      expectedStoreDays: stores.reduce((n, s) => n + s.expectedDays, 0),
      missingStoreDays: stores.reduce((n, s) => n + s.missingDays, 0),
      partialStoreDays: stores.reduce((n, s) => n + s.partialDays, 0),
      rejectedStoreDays: stores.reduce((n, s) => n + s.rejectedDays, 0),
      futureStoreDays,
    },
    days,
  };
}

/** The report's JSON object, keys in the documented order (CoverageJson), nothing else. */
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
      rejectedDays: s.rejectedDays,
      coveragePct: s.coveragePct,
      priority: s.priority,
      isNew: s.isNew,
      suspectedNew: s.suspectedNew,
      firstSale: s.firstSale,
      lastSale: s.lastSale,
      missing: [...s.missing],
      partial: [...s.partial],
      rejected: [...s.rejected],
      unprovenEmpty: s.unprovenEmpty.map((u) => ({ day: u.day, reason: u.reason, since: u.since, confirmFrom: u.confirmFrom })),
      missingRanges: s.missingRanges.map((r) => ({ from: r.from, to: r.to, days: r.days })),
    })),
    patterns: {
      commonGaps: report.patterns.commonGaps.map((g) => ({ from: g.from, to: g.to, stores: [...g.stores] })),
      closedDays: [...report.patterns.closedDays],
      newStores: [...report.patterns.newStores],
      suspectedNewStores: [...report.patterns.suspectedNewStores],
    },
    totals: {
      expectedStoreDays: report.totals.expectedStoreDays,
      missingStoreDays: report.totals.missingStoreDays,
      partialStoreDays: report.totals.partialStoreDays,
      rejectedStoreDays: report.totals.rejectedStoreDays,
      futureStoreDays: report.totals.futureStoreDays,
    },
  };
}
