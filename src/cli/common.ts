import { Option, type Command } from 'commander';

/** The flags every report command shares: `--from --to --stores --format --config`. */
export { resolveWindow } from '../catalogue/index.ts';

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
