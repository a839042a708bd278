import { Option, type Command } from 'commander';
import type { Config } from '../catalogue/config.ts';
import { selectStores } from '../catalogue/index.ts';
import type { Store } from '../catalogue/stores.ts';
import { addDays, isValidDate, localDateTime, type IsoDate } from '../shared/dates.ts';
import { UsageError } from '../shared/errors.ts';

/** The flags every report command shares: `--from --to --stores --format --config`. */
export interface WindowFlags {
  from?: string;
  to?: string;
  stores?: string;
  config?: string;
}

export function addWindowOptions(command: Command, formats: readonly string[], defaultFormat = 'table'): Command {
  return command
    .option('--from <YYYY-MM-DD>', 'primer día (incluido)')
    .option('--to <YYYY-MM-DD>', 'último día (incluido); por defecto ayer')
    .option('--stores <ids>', 'tiendas separadas por coma (p. ej. tienda_01,tienda_02); por defecto todas')
    .option('--config <archivo>', 'archivo de configuración JSON (por defecto VENTAS_CONFIG)')
    .addOption(new Option('--format <formato>', 'formato de salida').choices([...formats]).default(defaultFormat));
}

function parseDay(value: string, flag: string): IsoDate {
  if (!isValidDate(value)) throw new UsageError(`${flag} inválida: "${value}". Se espera una fecha YYYY-MM-DD existente (p. ej. 2025-10-28)`);
  return value;
}

/**
 * The window and stores of a report from the flags: `--to` defaults to yesterday (store time), `--from` to 90 days
 * before it, like the seed's window. Impossible dates, `--from` after `--to` and unknown stores are bad input.
 */
export function resolveWindow(flags: WindowFlags, config: Config, today: IsoDate = localDateTime(config.stores[0]?.timeZone ?? 'America/Caracas').slice(0, 10)) {
  const to = flags.to ? parseDay(flags.to, '--to') : addDays(today, -1);
  const from = flags.from ? parseDay(flags.from, '--from') : addDays(to, -89);
  if (from > to) throw new UsageError(`--from (${from}) es posterior a --to (${to})`);
  const ids = flags.stores?.split(',').map((s) => s.trim()).filter(Boolean);
  const stores: Store[] = selectStores(config.stores, ids);
  return { from, to, stores };
}
