import type { Store } from '../catalogue/stores.ts';
import { addDays, isValidDate, type IsoDate } from '../shared/dates.ts';
import { UsageError } from '../shared/errors.ts';
import { DAY_END, DAY_START, type LocalDateTime } from '../shared/window.ts';

export type { LocalDateTime };

/** An inclusive interval of local time, to the second. */
export interface Interval {
  from: LocalDateTime;
  to: LocalDateTime;
}

const CLI_DATE_TIME = /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/;

/**
 * `--fecha-desde`/`--fecha-hasta` as the seed writes them (`YYYY-MM-DD HH:MM`). A start is the first second of its
 * minute, an end the last one: "hasta 08:00" includes 08:00:59. A bare date is the whole day.
 */
export function parseCliDateTime(value: string, edge: 'start' | 'end', flag: string): LocalDateTime {
  const m = CLI_DATE_TIME.exec(value.trim());
  const [hh, mm, ss] = [m?.[2], m?.[3], m?.[4]];
  if (!m || !isValidDate(m[1]!) || (hh !== undefined && (Number(hh) > 23 || Number(mm) > 59 || Number(ss ?? 0) > 59))) {
    throw new UsageError(
      `${flag} inválida: "${value}". Se espera "YYYY-MM-DD HH:MM" (p. ej. "2026-01-10 00:00") o YYYY-MM-DD`,
    );
  }
  if (hh === undefined) return `${m[1]} ${edge === 'start' ? DAY_START : DAY_END}`;
  return `${m[1]} ${hh}:${mm}:${ss ?? (edge === 'start' ? '00' : '59')}`;
}

function toMs(t: LocalDateTime): number {
  return Date.parse(`${t.replace(' ', 'T')}Z`);
}

function fromMs(ms: number): LocalDateTime {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

export function addMinutes(t: LocalDateTime, minutes: number): LocalDateTime {
  return fromMs(toMs(t) + minutes * 60_000);
}

/** The incremental window: the last `minutes` plus an hour of overlap, up to now. */
export function incrementalInterval(now: LocalDateTime, minutes: number): Interval {
  return { from: addMinutes(now, -(minutes + 60)), to: now };
}

/** `--recovery-mode`: the whole day `today - recoveryDays`. */
export function recoveryInterval(today: IsoDate, recoveryDays: number): Interval {
  const day = addDays(today, -recoveryDays);
  return { from: `${day} 00:00:00`, to: `${day} 23:59:59` };
}

/** The part of an interval inside the store's life (openedOn..closedOn), or null when none is. */
export function clampToStoreLife(store: Store, interval: Interval): Interval | null {
  const from =
    store.openedOn && interval.from < `${store.openedOn} 00:00:00` ? `${store.openedOn} 00:00:00` : interval.from;
  const to = store.closedOn && interval.to > `${store.closedOn} 23:59:59` ? `${store.closedOn} 23:59:59` : interval.to;
  return from <= to ? { from, to } : null;
}
