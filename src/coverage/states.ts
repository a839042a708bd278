/**
 * Day states: every store-day of a window is exactly one of closed, empty, missing, partial,
 * rejected, future or complete. Pure: the rows come from the `store_days` summary, read elsewhere, and the current
 * instant is given.
 */
import { isClosedDay } from '../catalogue/calendar.ts';
import type { Store } from '../catalogue/stores.ts';
import { addDays, eachDay, localDateTime, weekday, type IsoDate } from '../shared/dates.ts';

export type DayState = 'closed' | 'empty' | 'missing' | 'partial' | 'rejected' | 'future' | 'complete';

/** One `store_days` row: rows in `ventas` for the local day, and what KLK reported for the whole day (null = never). */
export interface StoreDayRow {
  storeId: string;
  day: IsoDate;
  lines: number;
  totalUsd: number;
  klkLines: number | null;
  /** Lines KLK sent for the whole day that were quarantined (absent or null: none known). */
  klkRejected?: number | null;
  /** The last whole-day extraction found every line rejected, and other lines than the extraction before it. */
  rejectedSourceChanged?: boolean;
  /** The first and the latest of the proven 0-line whole-day answers in a row (ISO instants; absent: none). */
  emptySince?: string | null;
  emptySeenAt?: string | null;
  /** The latest whole-day answer without `meta` that had no line for the day: it proves nothing. */
  unprovenEmptyAt?: string | null;
}

/**
 * Why a day without rows is `missing` although KLK answered it with 0 lines: `no-proof`, the answer did not prove
 * itself whole; `needs-second-answer`, a day the store usually sells needs a second proven 0-line answer at least
 * `EMPTY_CONFIRM_HOURS` after the first (`confirmFrom`). `since`: the answer that started it.
 */
export interface UnprovenEmpty {
  reason: 'no-proof' | 'needs-second-answer';
  since: string;
  confirmFrom: string | null;
  /** `confirmFrom` on the store's wall clock, `YYYY-MM-DD HH:MM`, for people (not in the JSON). */
  confirmFromLocal: string | null;
}

/** A store's usual weekday answered empty once may be a failure dressed as "0 sales": a second look, this much later. */
export const EMPTY_CONFIRM_HOURS = 6;

/** A store-day of the window with its state: a heatmap cell, and what the planner reads. */
export interface DayCell {
  day: IsoDate;
  state: DayState;
  lines: number;
  totalUsd: number;
  klkLines: number | null;
  /** Lines the store usually sells on such a day (the partial baseline); null when it has never sold. */
  usualLines: number | null;
  /** Lines KLK sent for the day that were quarantined, at its last whole-day extraction (0 when none). */
  rejectedLines: number;
  /** A `rejected` day whose source lines changed at the last extraction: worth fetching once more. */
  sourceChanged: boolean;
  /** A `missing` day KLK answered with 0 lines that do not prove it empty yet; null otherwise. */
  unprovenEmpty: UnprovenEmpty | null;
}

/** Days on which the store is expected to sell: only these count towards coverage. */
export function isExpected(state: DayState): boolean {
  return state === 'missing' || state === 'partial' || state === 'rejected' || state === 'complete';
}

/**
 * The store's first day that is not over at `now`: its local today while the store is still open (before its
 * closing hour; a store closing at midnight is open all day), else tomorrow. From it on, days are `future`.
 */
export function firstFutureDay(store: Pick<Store, 'timeZone' | 'closes'>, now: Date): IsoDate {
  const local = localDateTime(store.timeZone, now);
  const today = local.slice(0, 10);
  const closed = store.closes !== '00:00' && local.slice(11, 16) >= store.closes;
  return closed ? addDays(today, 1) : today;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * The state of one store-day from its facts; the order of the checks is the precedence of the states. A day not
 * over yet is `future` whatever it holds: it is never a hole while the store can still sell.
 */
export function dayState(day: {
  future: boolean;
  closed: boolean;
  lines: number;
  klkLines: number | null;
  /** Lines of the last whole-day answer that were quarantined. */
  rejectedLines: number;
  /** KLK's 0 lines for the day are proven (see EMPTY_CONFIRM_HOURS); absent: they are. */
  emptyProven?: boolean;
  usualLines: number | null;
  partialRatio: number;
}): DayState {
  if (day.future) return 'future';
  if (day.closed) return 'closed';
  // KLK answered the whole day with no line loadable: 0 lines is a closure once proven, lines all quarantined are not.
  if (day.klkLines === 0 && day.lines === 0) {
    if (day.rejectedLines > 0) return 'rejected';
    return day.emptyProven === false ? 'missing' : 'empty';
  }
  if (day.lines === 0) return 'missing';
  if (day.klkLines !== null) return day.lines < day.klkLines ? 'partial' : 'complete';
  // Without KLK's own count for the whole day, a day far below the store's usual is suspect. With it, the source
  // has spoken: a quiet day KLK confirms is complete, or a backfill would fetch it again forever.
  if (day.usualLines !== null && day.lines < day.partialRatio * day.usualLines) return 'partial';
  return 'complete';
}

/** Why a missing day's 0 lines from KLK do not make it empty, or null when KLK never answered it with 0 lines. */
function unprovenEmpty(row: StoreDayRow | undefined, confirmFrom: string | null, timeZone: string): UnprovenEmpty | null {
  if (row?.klkLines === 0 && (row.klkRejected ?? 0) === 0 && row.emptySince && confirmFrom) {
    const confirmFromLocal = localDateTime(timeZone, new Date(confirmFrom)).slice(0, 16);
    return { reason: 'needs-second-answer', since: row.emptySince, confirmFrom, confirmFromLocal };
  }
  if (row?.unprovenEmptyAt) return { reason: 'no-proof', since: row.unprovenEmptyAt, confirmFrom: null, confirmFromLocal: null };
  return null;
}

/** How many earlier same weekdays with data make a store's usual for a day. */
const BASELINE_WEEKS = 4;

const HOUR_MS = 3_600_000;

/**
 * Whether KLK's 0 lines for a day prove it empty: always when the store does not usually sell on that weekday (a
 * weekly closing day, a store not yet selling); on a weekday it usually sells, only once a second proven 0-line
 * answer came `EMPTY_CONFIRM_HOURS` after the first.
 */
function emptyProof(row: StoreDayRow | undefined, usuallySells: boolean): { proven: boolean; confirmFrom: string | null } {
  if (!usuallySells || !row?.emptySince || !row.emptySeenAt) return { proven: true, confirmFrom: null };
  const first = Date.parse(row.emptySince);
  const confirmFrom = new Date(first + EMPTY_CONFIRM_HOURS * HOUR_MS).toISOString();
  return { proven: Date.parse(row.emptySeenAt) - first >= EMPTY_CONFIRM_HOURS * HOUR_MS, confirmFrom };
}

/**
 * One cell per day of `from`..`to` for a store. `rows` may hold days before `from`: they feed the weekday baseline
 * (usual = median of the previous 4 same weekdays with data, else the store's median over the window's days with
 * data). Rows of other stores and days after `to` are ignored; a day without a row has no lines and was never
 * extracted whole. Days not over at `now` (store time) are `future`.
 */
export function classifyStoreDays(params: {
  store: Store;
  chainClosedDays: readonly string[];
  partialRatio: number;
  from: IsoDate;
  to: IsoDate;
  rows: readonly StoreDayRow[];
  now: Date;
}): DayCell[] {
  const { store, chainClosedDays, partialRatio, from, to } = params;
  const futureFrom = firstFutureDay(store, params.now);
  const byDay = new Map<IsoDate, StoreDayRow>();
  let earliest = from;
  for (const row of params.rows) {
    if (row.storeId !== store.id || row.day > to) continue;
    byDay.set(row.day, row);
    if (row.day < earliest) earliest = row.day;
  }

  const windowWithData = eachDay(from, to)
    .map((day) => byDay.get(day)?.lines ?? 0)
    .filter((lines) => lines > 0);
  const windowMedian = windowWithData.length > 0 ? median(windowWithData) : null;

  // Walking forward in time, each weekday keeps its last few days with data: the baseline of its next occurrence;
  // and its last few known outcomes (sold, or proven empty): whether the store usually sells on it.
  const recentByWeekday: number[][] = Array.from({ length: 7 }, () => []);
  const soldByWeekday: boolean[][] = Array.from({ length: 7 }, () => []);
  const cells: DayCell[] = [];
  for (const day of eachDay(earliest, to)) {
    const recent = recentByWeekday[weekday(day)]!;
    const sold = soldByWeekday[weekday(day)]!;
    const row = byDay.get(day);
    const lines = row?.lines ?? 0;
    const klkLines = row?.klkLines ?? null;
    const rejectedLines = row?.klkRejected ?? 0;
    const closed = isClosedDay(store, day, chainClosedDays);
    // Usually: on at least half of the last known same weekdays (none known: nothing says it sells then).
    const usuallySells = sold.length > 0 && sold.filter(Boolean).length * 2 >= sold.length;
    const proof = emptyProof(row, usuallySells);
    if (day >= from) {
      const usualLines = recent.length > 0 ? median(recent) : windowMedian;
      const state = dayState({ future: day >= futureFrom, closed, lines, klkLines, rejectedLines, emptyProven: proof.proven, usualLines, partialRatio });
      cells.push({
        day,
        state,
        lines,
        totalUsd: row?.totalUsd ?? 0,
        klkLines,
        usualLines,
        rejectedLines,
        sourceChanged: state === 'rejected' && Boolean(row?.rejectedSourceChanged),
        unprovenEmpty: state === 'missing' ? unprovenEmpty(row, proof.confirmFrom, store.timeZone) : null,
      });
    }
    if (lines > 0) {
      recent.push(lines);
      if (recent.length > BASELINE_WEEKS) recent.shift();
    }
    const provenEmpty = !closed && lines === 0 && klkLines === 0 && rejectedLines === 0 && proof.proven;
    if (lines > 0 || provenEmpty) {
      sold.push(lines > 0);
      if (sold.length > BASELINE_WEEKS) sold.shift();
    }
  }
  return cells;
}
