/**
 * What an incident says, in Spanish, as people read it in an alert: times in the store's (or the chain's) local
 * time, durations in minutes, hours and days, day lists cut short. Pure.
 */
import { localDateTime } from '../shared/dates.ts';
import { count, int } from '../shared/format.ts';

/** How many days a list names before it says "y N más". */
const LISTED_DAYS = 10;

/** Whole minutes, hours and days: "15 min", "2 h 30 min", "3 d 4 h" (a negative span reads as 0). */
export function elapsed(ms: number): string {
  const minutes = Math.max(0, Math.floor(ms / 60_000));
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${int(days)} d ${hours % 24} h` : `${int(days)} d`;
}

/** "las 10:15" on the day of `now` (local), "el 2026-01-10 a las 22:15" on another; one o'clock is "la 01:15". */
export function atTime(at: Date, now: Date, timeZone: string): string {
  const local = localDateTime(timeZone, at);
  const [day, time] = [local.slice(0, 10), local.slice(11, 16)];
  const article = time.startsWith('01:') ? 'la' : 'las';
  return day === localDateTime(timeZone, now).slice(0, 10) ? `${article} ${time}` : `el ${day} a ${article} ${time}`;
}

/** A span from `since` to `now`: "desde las 10:15 (45 min)". */
function sinceText(since: Date, now: Date, timeZone: string): string {
  return `desde ${atTime(since, now, timeZone)} (${elapsed(now.getTime() - since.getTime())})`;
}

/** A finished span: "desde las 10:15 hasta las 11:02 (47 min)". */
function spanText(since: Date, now: Date, timeZone: string): string {
  return `desde ${atTime(since, now, timeZone)} hasta ${atTime(now, now, timeZone)} (${elapsed(now.getTime() - since.getTime())})`;
}

/** "2026-01-05, 2026-01-07 y 3 más". */
export function dayList(days: readonly string[], label: (day: string) => string = (d) => d): string {
  const shown = days.slice(0, LISTED_DAYS).map(label).join(', ');
  return days.length > LISTED_DAYS ? `${shown} y ${int(days.length - LISTED_DAYS)} más` : shown;
}

export const summaries = {
  klkDown: (since: Date, now: Date, tz: string) => `KLK no responde ${sinceText(since, now, tz)}`,
  klkBack: (since: Date, now: Date, tz: string) => `KLK responde de nuevo; no respondió ${spanText(since, now, tz)}`,

  storeStale: (store: string, since: Date, now: Date, tz: string) =>
    `${store}: sin sincronización correcta ${sinceText(since, now, tz)}`,
  storeSynced: (store: string, since: Date, now: Date, tz: string) =>
    `${store}: sincroniza de nuevo; sin sincronización correcta ${spanText(since, now, tz)}`,

  recoveryFailed: (day: string, ran: boolean, stores: readonly string[], error: string | null) => {
    const what = `La recuperación nocturna del ${day}`;
    if (!ran) return `${what} no se ejecutó`;
    const where = stores.length > 0 ? `: falló en ${stores.join(', ')}` : '';
    return `${what} no se completó${where}${error ? ` (${error})` : ''}`;
  },
  recoveryBack: (day: string, ran = true) =>
    `La recuperación nocturna vuelve a completarse (la del ${day} ${ran ? 'había fallado' : 'no se había ejecutado'})`,

  healExhausted: (store: string, days: readonly string[], attempts: number) =>
    `${store}: ${count(days.length, 'día sigue incompleto', 'días siguen incompletos')} tras ` +
    `${count(attempts, 'intento', 'intentos')} y ya no se ${days.length === 1 ? 'reintenta' : 'reintentan'}: ${dayList(days)}`,
  healDone: (store: string) => `${store}: ya no quedan días abandonados por la reparación automática`,

  quarantine: (store: string, lines: Readonly<Record<string, number>>) => {
    const days = Object.keys(lines).sort();
    const total = days.reduce((sum, d) => sum + lines[d]!, 0);
    return (
      `${store}: ${count(total, 'línea rechazada', 'líneas rechazadas')} en cuarentena, ` +
      `${days.length === 1 ? 'del día' : `de ${int(days.length)} días:`} ${dayList(days, (d) => `${d} (${int(lines[d]!)})`)}`
    );
  },
  quarantineEmpty: (store: string) => `${store}: ya no hay líneas rechazadas en cuarentena`,
};
