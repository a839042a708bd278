/**
 * A request window over local store time: what KLK is asked for, what an answer is checked against and what the
 * loader accepts. Shared, so loading and planning need not depend on the KLK client.
 */
import type { IsoDate } from './dates.ts';

/** Local store time `YYYY-MM-DD HH:MM:SS`, no zone. */
export type LocalDateTime = string;

/** One KLK request's range: inclusive dates, and an optional per-day hour window `HH:MM:SS` (absent = whole days). */
export type KlkWindow = { fechaDesde: IsoDate; fechaHasta: IsoDate; horaDesde?: string; horaHasta?: string };

/** A day's first and last second (KLK compares whole seconds and includes both ends). */
export const DAY_START = '00:00:00';
export const DAY_END = '23:59:59';

/** True when the window covers its days whole (no hour filter, or 00:00:00-23:59:59). */
export function isWholeDays(window: KlkWindow): boolean {
  return (window.horaDesde ?? DAY_START) === DAY_START && (window.horaHasta ?? DAY_END) === DAY_END;
}
