/**
 * The coverage report as the page draws it: per store one letter per day for the state, and the day's lines,
 * USD total and rejected lines in parallel arrays, so 19 stores x 365 days stay a small answer. Pure.
 */
import type { Store } from '../catalogue/stores.ts';
import type { CommonGapDetail, CoveragePatterns, CoverageReport, Priority, ReportTotals } from '../coverage/index.ts';
import type { DayState } from '../coverage/states.ts';
import { daysBetween, type IsoDate } from '../shared/dates.ts';

export const STATE_CODES: Record<DayState, string> = {
  closed: 'x',
  empty: 'e',
  missing: 'm',
  partial: 'p',
  rejected: 'r',
  future: 'f',
  complete: 'c',
};

export interface HeatmapStore {
  store: string;
  name: string;
  priority: Priority;
  coveragePct: number;
  expectedDays: number;
  daysWithData: number;
  missingDays: number;
  partialDays: number;
  rejectedDays: number;
  isNew: boolean;
  suspectedNew: boolean;
  firstSale: IsoDate | null;
  /** One letter per day of the window, see STATE_CODES. */
  states: string;
  lines: number[];
  totalUsd: number[];
  /** Lines KLK sent for the day that were quarantined (a `rejected` day's count; 0 when none). */
  rejected: number[];
}

export interface HeatmapJson {
  from: IsoDate;
  to: IsoDate;
  days: number;
  /** The IANA zone of the window's stores (the first one's): the page names it with every time it shows. */
  timeZone: string;
  /** The window's stores in catalogue order: the heatmap's rows. */
  stores: HeatmapStore[];
  patterns: CoveragePatterns<CommonGapDetail>;
  totals: ReportTotals;
  /** Every store of the catalogue, for the page's store filter. */
  catalogue: Array<{ store: string; name: string }>;
}

export function toHeatmap(report: CoverageReport, catalogue: readonly Store[]): HeatmapJson {
  const figures = new Map(report.stores.map((s) => [s.store, s]));
  const stores = Object.entries(report.days).map(([id, cells]): HeatmapStore => {
    const s = figures.get(id)!;
    return {
      store: s.store,
      name: s.name,
      priority: s.priority,
      coveragePct: s.coveragePct,
      expectedDays: s.expectedDays,
      daysWithData: s.daysWithData,
      missingDays: s.missingDays,
      partialDays: s.partialDays,
      rejectedDays: s.rejectedDays,
      isNew: s.isNew,
      suspectedNew: s.suspectedNew,
      firstSale: s.firstSale,
      states: cells.map((c) => STATE_CODES[c.state]).join(''),
      lines: cells.map((c) => c.lines),
      totalUsd: cells.map((c) => Math.round(c.totalUsd * 100) / 100),
      rejected: cells.map((c) => c.rejectedLines),
    };
  });
  return {
    from: report.from,
    to: report.to,
    days: daysBetween(report.from, report.to) + 1,
    timeZone: catalogue.find((s) => s.id in report.days)?.timeZone ?? catalogue[0]?.timeZone ?? 'America/Caracas',
    stores,
    patterns: {
      commonGaps: report.patterns.commonGaps.map((g) => ({ ...g, stores: [...g.stores] })),
      closedDays: [...report.patterns.closedDays],
      newStores: [...report.patterns.newStores],
      suspectedNewStores: [...report.patterns.suspectedNewStores],
    },
    totals: { ...report.totals },
    catalogue: catalogue.map((s) => ({ store: s.id, name: s.name })),
  };
}
