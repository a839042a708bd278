export * from './stores.ts';
export * from './config.ts';
export * from './calendar.ts';

import { now } from '../shared/clock.ts';
import { addDays, daysBetween, isValidDate, localDateTime, type IsoDate } from '../shared/dates.ts';
import { UsageError } from '../shared/errors.ts';
import { int } from '../shared/format.ts';
import type { Config } from './config.ts';
import type { Store } from './stores.ts';

/**
 * Resolves store ids from the command line, separated by commas, spaces or both in any flag (`tienda_01,tienda_02`,
 * `"tienda_01 tienda_02"`, or one per argument); an unknown id is bad input that lists the valid ones.
 */
export function selectStores(all: readonly Store[], given: readonly string[] | undefined): Store[] {
  if (given === undefined) return [...all];
  const ids = given.flatMap((id) => id.split(/[\s,]+/)).filter(Boolean);
  // An empty list given on purpose (`--stores ""`, `"stores": []`) is a mistake, never "every store".
  if (ids.length === 0)
    throw new UsageError(
      `lista de tiendas vacía: nombre al menos una (p. ej. tienda_01) u omita la opción para todas. Tiendas válidas: ${all.map((s) => s.id).join(', ')}`,
    );
  const byId = new Map(all.map((s) => [s.id, s]));
  const unknown = ids.filter((id) => !byId.has(id));
  if (unknown.length > 0) {
    throw new UsageError(
      `tienda desconocida: ${unknown.join(', ')}. Tiendas válidas: ${all.map((s) => s.id).join(', ')}`,
    );
  }
  return [...new Set(ids)].map((id) => byId.get(id)!);
}

/** A `--from`/`--to` value: an existing `YYYY-MM-DD` date, or bad input naming the flag. */
export function parseDay(value: string, flag: string): IsoDate {
  if (!isValidDate(value))
    throw new UsageError(`${flag} inválida: "${value}". Se espera una fecha YYYY-MM-DD existente (p. ej. 2025-10-28)`);
  return value;
}

/**
 * The window and stores of a report from the flags: `--to` defaults to yesterday (store time, by the clock, which
 * VENTAS_CLOCK may simulate), `--from` to 90 days before it, like the seed's window. Impossible dates, `--from` after
 * `--to` and unknown stores are bad input.
 */
export function resolveWindow(
  flags: { from?: string; to?: string; stores?: string },
  config: Config,
  today: IsoDate = localDateTime(config.stores[0]?.timeZone ?? 'America/Caracas', now()).slice(0, 10),
) {
  const to = flags.to ? parseDay(flags.to, '--to') : addDays(today, -1);
  const from = flags.from ? parseDay(flags.from, '--from') : addDays(to, -89);
  if (from > to) throw new UsageError(`--from (${from}) es posterior a --to (${to})`);
  const days = daysBetween(from, to) + 1;
  if (days > config.maxWindowDays) {
    throw new UsageError(
      `la ventana del ${from} al ${to} tiene ${int(days)} días: el máximo es ${int(config.maxWindowDays)} (maxWindowDays en la configuración); pida menos días`,
    );
  }
  const stores: Store[] = selectStores(config.stores, flags.stores === undefined ? undefined : [flags.stores]);
  return { from, to, stores };
}
