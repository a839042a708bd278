import { Option } from 'commander';
import { cancelRun } from '../runs/cancel.ts';
import { runDetail } from '../runs/detail.ts';
import { listRuns } from '../runs/history.ts';
import { formatRunRef, parseRunRef } from '../runs/ref.ts';
import { renderCancel, renderRunDetail, renderRunsTable } from '../runs/render.ts';
import { openDatabase, positiveInt, resolveConfig } from './context.ts';
import type { Cli } from './main.ts';

interface RunsFlags {
  limit: number;
  format: 'table' | 'json';
  config?: string;
}

const formatOption = () => new Option('--format <formato>', 'formato de salida').choices(['table', 'json']).default('table');
const configOption = () => new Option('--config <archivo>', 'archivo de configuración JSON (por defecto VENTAS_CONFIG)');

/** Times are shown in the stores' zone, like every other report. */
function timeZoneOf(flags: { config?: string }): string {
  return resolveConfig(flags).stores[0]?.timeZone ?? 'America/Caracas';
}

/** `ventas runs [show ID | cancel ID]`: the ETL and backfill runs, one in detail, or one cancelled (spec section 6). */
export function registerRuns(cli: Cli): void {
  const runs = cli.program
    .command('runs')
    .description('Ejecuciones del ETL y backfills: lista, detalle (show ID) y cancelación (cancel ID)')
    .addHelpText(
      'after',
      [
        '',
        'Identificadores: un número es un backfill (el runId de su JSON y de /api/runs/ID, p. ej. 12);',
        'etl-N es una ejecución del ETL (p. ej. etl-7).',
      ].join('\n'),
    );

  // The default: `ventas runs [--limit N] [--format json]` is `ventas runs list ...`.
  runs
    .command('list', { isDefault: true })
    .description('Las últimas ejecuciones, de la más nueva a la más vieja (por defecto)')
    .option('--limit <n>', 'cuántas, de la más nueva a la más vieja', positiveInt('--limit'), 20)
    .addOption(formatOption())
    .addOption(configOption())
    .action(
      cli.action(async (flags: RunsFlags) => {
        const timeZone = timeZoneOf(flags);
        const db = await openDatabase();
        try {
          const items = await listRuns(db, flags.limit);
          cli.io.out(flags.format === 'json' ? JSON.stringify({ runs: items }) : renderRunsTable(items, timeZone));
        } finally {
          await db.close();
        }
      }),
    );

  runs
    .command('show')
    .description('Todo sobre una ejecución: bloques, tiendas, errores y cómo reanudarla')
    .argument('<id>', 'número del backfill (12) o etl-N (etl-7)')
    .addOption(formatOption())
    .addOption(configOption())
    .action(
      cli.action(async (id: string, flags: Omit<RunsFlags, 'limit'>) => {
        const ref = parseRunRef(id);
        const timeZone = timeZoneOf(flags);
        const db = await openDatabase();
        try {
          const detail = await runDetail(db, ref);
          cli.io.out(flags.format === 'json' ? JSON.stringify(detail) : renderRunDetail(detail, timeZone));
        } finally {
          await db.close();
        }
      }),
    );

  runs
    .command('cancel')
    .description('Cancela un backfill sin terminar (lo pendiente ya no se ejecuta) o cierra una ejecución del ETL cuyo proceso murió')
    .argument('<id>', 'número del backfill (12) o etl-N (etl-7)')
    .addOption(formatOption())
    .action(
      cli.action(async (id: string, flags: { format: 'table' | 'json' }) => {
        const ref = parseRunRef(id);
        const db = await openDatabase();
        try {
          const outcome = await cancelRun(db, ref);
          cli.io.out(
            flags.format === 'json'
              ? JSON.stringify({ runId: ref.kind === 'backfill' ? ref.id : formatRunRef(ref), status: 'cancelled' })
              : renderCancel(outcome),
          );
        } finally {
          await db.close();
        }
      }),
    );
}
