/**
 * Option parsers and the option sets commands share. `ventas --help` loads this file: it imports commander only.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';

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

/** The formats of `gaps` and `verify`. */
export const REPORT_FORMATS = ['table', 'markdown', 'json', 'csv'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** A positive whole number from a flag, or bad input naming the flag. */
export function positiveInt(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n <= 0) {
      throw new InvalidArgumentError(`${flag} debe ser un entero positivo.`);
    }
    return n;
  };
}

/** A TCP port; 0 lets the system choose a free one. */
export function portNumber(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n > 65_535)
    throw new InvalidArgumentError('--port debe ser un entero de 0 a 65535.');
  return n;
}
