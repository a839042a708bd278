/**
 * KLK request windows. KLK applies `hora_desde`/`hora_hasta` to EACH date of the requested range (a time-of-day
 * window, not one continuous interval), compares a line's time truncated to whole seconds and includes both ends.
 * So an interval is cut into whole-day chunks without hours plus a partial first and last day of their own.
 */
import { addDays, daysBetween, eachDay, isValidDate, type IsoDate } from '../shared/dates.ts';
import { UsageError } from '../shared/errors.ts';
import { DAY_END, DAY_START, isWholeDays, type KlkWindow, type LocalDateTime } from '../shared/window.ts';

export { DAY_END, DAY_START, isWholeDays, type KlkWindow, type LocalDateTime };

const LOCAL_DATE_TIME = /^(\d{4}-\d{2}-\d{2}) ([01]\d|2[0-3]):([0-5]\d):([0-5]\d)$/;

function splitLocal(value: LocalDateTime, label: string): { date: IsoDate; time: string } {
  const m = LOCAL_DATE_TIME.exec(value);
  if (!m || !isValidDate(m[1]!)) {
    throw new UsageError(`${label} inválida: "${value}", se espera YYYY-MM-DD HH:MM:SS (p. ej. 2026-01-10 12:00:00)`);
  }
  return { date: m[1]!, time: value.slice(11) };
}

/**
 * The requests that cover exactly `from`..`to` (both inclusive, to the second): whole days in chunks of at most
 * `chunkDays` consecutive days without hours, and a partial first or last day as its own request with hours.
 */
export function planWindows(from: LocalDateTime, to: LocalDateTime, chunkDays: number): KlkWindow[] {
  if (!Number.isInteger(chunkDays) || chunkDays < 1) {
    throw new UsageError(`tamaño de bloque inválido: ${chunkDays}, se espera un entero de días mayor o igual a 1`);
  }
  const start = splitLocal(from, 'fecha desde');
  const end = splitLocal(to, 'fecha hasta');
  if (from > to) throw new UsageError(`la fecha desde (${from}) es posterior a la fecha hasta (${to})`);

  if (start.date === end.date) {
    if (start.time === DAY_START && end.time === DAY_END) return [{ fechaDesde: start.date, fechaHasta: start.date }];
    return [{ fechaDesde: start.date, fechaHasta: start.date, horaDesde: start.time, horaHasta: end.time }];
  }

  const windows: KlkWindow[] = [];
  let firstWhole = start.date;
  let lastWhole = end.date;
  if (start.time !== DAY_START) {
    windows.push({ fechaDesde: start.date, fechaHasta: start.date, horaDesde: start.time, horaHasta: DAY_END });
    firstWhole = addDays(start.date, 1);
  }
  let lastPartial: KlkWindow | undefined;
  if (end.time !== DAY_END) {
    lastPartial = { fechaDesde: end.date, fechaHasta: end.date, horaDesde: DAY_START, horaHasta: end.time };
    lastWhole = addDays(end.date, -1);
  }
  for (let day = firstWhole; day <= lastWhole; day = addDays(day, chunkDays)) {
    const chunkEnd = addDays(day, chunkDays - 1);
    windows.push({ fechaDesde: day, fechaHasta: chunkEnd < lastWhole ? chunkEnd : lastWhole });
  }
  if (lastPartial) windows.push(lastPartial);
  return windows;
}

/** The dates a window asks for. */
export function windowDays(window: KlkWindow): IsoDate[] {
  return eachDay(window.fechaDesde, window.fechaHasta);
}

/**
 * Halves a multi-day window on a day boundary (the first half gets the extra day); each half keeps the hour window,
 * which applies per day anyway. `null` for a single day, which cannot be split by days.
 */
export function splitWindow(window: KlkWindow): [KlkWindow, KlkWindow] | null {
  const days = daysBetween(window.fechaDesde, window.fechaHasta) + 1;
  if (days < 2) return null;
  const firstEnd = addDays(window.fechaDesde, Math.ceil(days / 2) - 1);
  return [
    { ...window, fechaHasta: firstEnd },
    { ...window, fechaDesde: addDays(firstEnd, 1) },
  ];
}

/** Short human form for logs and messages: `2026-01-10..2026-01-12 12:00:00-23:59:59`. */
export function describeWindow(window: KlkWindow): string {
  const { fechaDesde, fechaHasta } = window;
  const days = fechaDesde === fechaHasta ? fechaDesde : `${fechaDesde}..${fechaHasta}`;
  return isWholeDays(window) ? days : `${days} ${window.horaDesde ?? DAY_START}-${window.horaHasta ?? DAY_END}`;
}
