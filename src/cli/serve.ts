import { InvalidArgumentError } from 'commander';
import { openDb } from '../db/index.ts';
import { createLogger, flushLogger } from '../shared/logger.ts';
import { startDashboard, untilStopSignal } from '../web/server.ts';
import { assertBindAllowed } from '../web/access.ts';
import { resolveWindow } from './common.ts';
import { klkBaseUrl, positiveInt, resolveConfig } from './context.ts';
import type { Cli } from './main.ts';

interface ServeFlags {
  port: number;
  host: string;
  from?: string;
  to?: string;
  stores?: string;
  klkUrl?: string;
  config?: string;
  dataDir?: string;
  concurrency?: number;
}

/** A TCP port; 0 lets the system choose a free one. */
export function portNumber(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n > 65_535) throw new InvalidArgumentError('--port debe ser un entero de 0 a 65535.');
  return n;
}

/** `ventas serve`: the dashboard and its HTTP API (spec section 8), until Ctrl+C. */
export function registerServe(cli: Cli): void {
  cli.program
    .command('serve')
    .description('Tablero web y API HTTP: mapa de cobertura, plan y backfill con progreso en vivo')
    .option('--port <n>', 'puerto', portNumber, 8080)
    .option('--host <host>', 'dirección de escucha; fuera de 127.0.0.1/localhost exige VENTAS_API_TOKEN', '127.0.0.1')
    .option('--from <YYYY-MM-DD>', 'primer día que muestra la página al abrir (por defecto 89 días antes de --to)')
    .option('--to <YYYY-MM-DD>', 'último día que muestra la página al abrir (por defecto ayer)')
    .option('--stores <ids>', 'tiendas que muestra la página al abrir (por defecto todas)')
    .option('--klk-url <url>', 'URL base de KLK para el backfill (por defecto KLK_BASE_URL)')
    .option('--config <archivo>', 'archivo de configuración JSON (por defecto VENTAS_CONFIG)')
    .option('--data-dir <dir>', 'carpeta de la base embebida (PGlite) en vez de DATABASE_URL; la de la demo es .ventas/demo')
    .option('--concurrency <n>', 'peticiones simultáneas a KLK durante el backfill', positiveInt('--concurrency'))
    .action(
      cli.action(async (flags: ServeFlags) => {
        const config = resolveConfig(flags);
        const token = process.env.VENTAS_API_TOKEN || undefined;
        assertBindAllowed(flags.host, token);
        // Checked now (exit 2), but only the given edges are kept: the defaults move with the days the server runs.
        resolveWindow(flags, config);
        const klkUrl = klkBaseUrl(config, flags.klkUrl);
        const logger = createLogger({ name: 'ventas-serve' });
        // --data-dir is a flag, so it wins over DATABASE_URL.
        const db = await openDb({ databaseUrl: flags.dataDir ? '' : process.env.DATABASE_URL, dataDir: flags.dataDir });
        try {
          const dashboard = await startDashboard({
            db,
            config,
            klkUrl,
            logger,
            host: flags.host,
            port: flags.port,
            token,
            window: { from: flags.from, to: flags.to, stores: flags.stores },
            concurrency: flags.concurrency,
          });
          cli.io.out(`Tablero en ${dashboard.url}`);
          if (token) cli.io.out('Las acciones (backfill) piden el token de VENTAS_API_TOKEN.');
          cli.io.out('Ctrl+C para terminar.');
          await untilStopSignal();
          cli.io.err('Deteniendo el tablero…');
          await dashboard.close();
        } finally {
          await db.close();
          await flushLogger(logger);
        }
      }),
    );
}
