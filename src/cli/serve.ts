import { openDb } from '../db/index.ts';
import { env } from '../shared/env.ts';
import { createLogger, flushLogger } from '../shared/logger.ts';
import { startDashboard, untilStopSignal } from '../web/server.ts';
import { assertBindAllowed, assertTokenUsable } from '../web/access.ts';
import { resolveWindow } from '../catalogue/index.ts';
import { klkBaseUrl, resolveConfig } from './context.ts';
import type { Cli } from './main.ts';

export interface ServeFlags {
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

/** `ventas serve`: the dashboard and its HTTP API, until Ctrl+C. */
export async function serveCommand(cli: Cli, flags: ServeFlags): Promise<void> {
  const config = resolveConfig(flags);
  const token = env().VENTAS_API_TOKEN;
  assertTokenUsable(token);
  assertBindAllowed(flags.host, token);
  // Checked now (exit 2), but only the given edges are kept: the defaults move with the days the server runs.
  resolveWindow(flags, config);
  const klkUrl = klkBaseUrl(config, flags.klkUrl);
  const logger = createLogger({ name: 'ventas-serve' });
  // --data-dir is a flag, so it wins over DATABASE_URL.
  const db = await openDb({ databaseUrl: flags.dataDir ? '' : env().DATABASE_URL, dataDir: flags.dataDir });
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
    if (token)
      cli.io.out('La API (lecturas y acciones) pide el token de VENTAS_API_TOKEN; el tablero lo pide una vez.');
    cli.io.out('Ctrl+C para terminar.');
    await untilStopSignal();
    cli.io.err('Deteniendo el tablero…');
    await dashboard.close();
  } finally {
    await db.close();
    await flushLogger(logger);
  }
}
