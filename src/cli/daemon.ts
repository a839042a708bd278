import { rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { runCycle, type CycleSummary } from '../daemon/cycle.ts';
import { createDaemonMetrics } from '../daemon/metrics.ts';
import { openKlk } from '../klk/open.ts';
import { now, simulatedClock } from '../shared/clock.ts';
import { localDateTime } from '../shared/dates.ts';
import { ExitCode, UsageError } from '../shared/errors.ts';
import { count, int } from '../shared/format.ts';
import { createLogger, flushLogger } from '../shared/logger.ts';
import { klkBaseUrl, openDatabase, resolveConfig } from './context.ts';
import type { Cli } from './main.ts';
import { processLeader } from '../daemon/leader.ts';
import { loopProviders, runLoop, type LoopState } from '../daemon/loop.ts';
import { env } from '../shared/env.ts';
import { assertBindAllowed, assertTokenUsable } from '../web/access.ts';
import { startDashboard } from '../web/server.ts';
import type { DaemonWork } from './daemon-work.ts';
import { STATUS_LABEL as STATUS } from './status-label.ts';

/** How long a shutdown lets the cycle in flight finish before cutting its requests. */
const SHUTDOWN_GRACE_MS = 20_000;

/**
 * `ventas daemon`: a cycle every `daemon.syncEveryMinutes` of the ventas clock while this process leads, its HTTP
 * endpoints meanwhile; SIGTERM/SIGINT let the cycle in flight finish (20 s at most), give the lead up and exit 0.
 */
async function runDaemon(cli: Cli, flags: DaemonFlags): Promise<number> {
  const config = resolveConfig(flags);
  const token = env().VENTAS_API_TOKEN;
  assertTokenUsable(token);
  assertBindAllowed(flags.host, token);
  const baseUrl = klkBaseUrl(config, flags.klkUrl);
  const logger = createLogger({ name: 'ventas-daemon' });
  const metrics = createDaemonMetrics();
  const zone = config.stores[0]?.timeZone ?? 'America/Caracas';
  const stopping = new AbortController();
  const cutting = new AbortController();
  const onSignal = () => {
    if (stopping.signal.aborted) return;
    cli.io.err('Deteniendo el daemon: no toma más trabajo; termina el ciclo o los bloques en curso (20 s como mucho)…');
    stopping.abort();
    setTimeout(() => cutting.abort(), SHUTDOWN_GRACE_MS).unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const db = await openDatabase(cli);
  // On PostgreSQL every daemon runs heal chunks: the queue (pg-boss) loads only there, PGlite starts as fast as before.
  const databaseUrl = env().DATABASE_URL;
  const speed = simulatedClock()?.speed ?? 1;
  let work: DaemonWork | null = null;
  try {
    if (databaseUrl)
      work = await (
        await import('./daemon-work.ts')
      ).openDaemonWork({
        databaseUrl,
        db,
        config,
        baseUrl,
        logger,
        intervalMs: speed > 0 ? (config.daemon.syncEveryMinutes * 60_000) / speed : Infinity,
        say: (line) => cli.io.out(`Cola: ${line}`),
        warn: (line) => cli.io.err(line),
      });
    const leader = await processLeader(db, {
      leaseMs: config.daemon.leaseSeconds * 1000,
      onError: (error) => logger.warn({ err: error }, 'leadership round failed'),
    });
    const state: LoopState = { last: null };
    const deps = { db, config, leader, now };
    const dashboard = await startDashboard({
      db,
      config,
      klkUrl: baseUrl,
      logger,
      host: flags.host,
      port: flags.port,
      token,
      window: {},
      daemon: loopProviders(deps, state, metrics),
    });
    try {
      cli.io.out(`Daemon en marcha: un ciclo cada ${int(config.daemon.syncEveryMinutes)} min del reloj de ventas.`);
      cli.io.out(`Sirve en ${dashboard.url} (/livez, /readyz, /metrics, /api/daemon, /api/incidents).`);
      if (work)
        cli.io.out(
          `Ejecuta bloques en cola (las reparaciones de los ciclos de cualquier daemon): hasta ${count(config.concurrency, 'bloque', 'bloques')} a la vez, dentro del límite por KLK común.`,
        );
      // Giving the lead up on the way out is not standing by: only changes while running are told.
      leader.on('change', (leading) => {
        if (stopping.signal.aborted) return;
        cli.io.out(leading ? 'Este proceso dirige: ejecuta los ciclos.' : 'Este proceso queda en espera: otro dirige.');
      });
      if (!(await leader.start())) cli.io.out('Otro proceso dirige: este queda en espera.');
      await runLoop(
        {
          ...deps,
          speed,
          cycleSeconds: flags.cycleSeconds,
          cycle: ({ stop, signal }) =>
            runCycle({
              db,
              config,
              openKlk: () => {
                const klk = openKlk(config, {
                  baseUrl,
                  concurrency: config.concurrency,
                  logger,
                  onEvent: (e) => metrics.onKlkEvent(e),
                });
                // With other daemons running chunks, the per-KLK limit is one for all of them.
                return work ? work.shared(klk) : klk;
              },
              now,
              logger,
              metrics,
              command: 'ventas daemon',
              stop,
              signal,
              healQueue: work?.healQueue,
            }),
          work: work?.work,
          onCycle: (s) => cli.io.out(cycleLine(s, zone)),
          onError: (error) => cli.io.err(`Ciclo fallido: ${(error as Error).message}`),
        },
        state,
        stopping.signal,
        cutting.signal,
      );
      await leader.release();
      cli.io.err('Daemon detenido.');
    } finally {
      await dashboard.close();
    }
    return ExitCode.ok;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await work?.close();
    await db.close();
    await flushLogger(logger);
  }
}

/** A cycle in one line, for the long-running mode's log. */
export function cycleLine(s: CycleSummary, zone: string): string {
  const ran = s.ticks.filter((t) => t.claimed);
  const rows = ran.reduce((n, t) => n + t.rows, 0) + s.heal.rows;
  const at = localDateTime(zone, s.startedAt).slice(0, 16);
  return (
    `Ciclo ${at}: ${ran.length ? ran.map((t) => `${t.kind === 'sync' ? 'sincronización' : 'recuperación'} ${STATUS[t.status ?? 'failed']}`).join(', ') : 'sin tareas'}` +
    ` · ${count(rows, 'fila', 'filas')} · pendientes ${int(s.heal.backlogBefore)}→${int(s.heal.backlogAfter)} · ${count(s.incidents.open, 'incidente abierto', 'incidentes abiertos')}`
  );
}

export interface DaemonFlags {
  once?: boolean;
  port: number;
  host: string;
  cycleSeconds?: number;
  klkUrl?: string;
  config?: string;
  /** With --once: the cycle's metrics, in Prometheus text, for node_exporter's textfile collector. */
  metricsFile?: string;
  format: 'table' | 'json';
}

/** `ventas daemon --once`: one cycle (sync, check, heal within budget, alerts); exit 1 while an incident is open. */
export async function daemonCommand(cli: Cli, flags: DaemonFlags): Promise<number> {
  if (!flags.once) {
    if (flags.metricsFile)
      throw new UsageError('--metrics-file es para --once; sin --once, el daemon sirve sus métricas en GET /metrics');
    return runDaemon(cli, flags);
  }
  const config = resolveConfig(flags);
  if (flags.metricsFile) await assertWritableFolder(flags.metricsFile);
  const baseUrl = klkBaseUrl(config, flags.klkUrl);
  const logger = createLogger();
  const metrics = createDaemonMetrics({ processMetrics: false });
  const db = await openDatabase(cli);
  try {
    const summary = await runCycle({
      db,
      config,
      openKlk: () =>
        openKlk(config, { baseUrl, concurrency: config.concurrency, logger, onEvent: (e) => metrics.onKlkEvent(e) }),
      now,
      logger,
      metrics,
      command: 'ventas daemon --once',
    });
    const zone = config.stores[0]?.timeZone ?? 'America/Caracas';
    // The cycle set each store's last successful sync from its record, sync due or not: no series vanishes.
    if (flags.metricsFile) await writeAtomically(flags.metricsFile, await metrics.registry.metrics());
    cli.io.out(flags.format === 'json' ? JSON.stringify(summary) : renderCycle(summary, zone));
    return summary.incidents.open > 0 ? ExitCode.partial : ExitCode.ok;
  } finally {
    await db.close();
    await flushLogger(logger);
  }
}

/** Before the cycle, not after it: a typo in the path is bad input (exit 2), not a cycle run for nothing. */
async function assertWritableFolder(path: string): Promise<void> {
  const folder = dirname(path);
  const isFolder = await stat(folder).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!isFolder) throw new UsageError(`--metrics-file: la carpeta ${folder} no existe`);
}

/**
 * A temporary file in the same folder, then a rename over `path`: node_exporter reads the textfile folder at any
 * moment and must see the previous file or the new one whole, never half of it.
 */
async function writeAtomically(path: string, text: string): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    await writeFile(temporary, text, { mode: 0o644 });
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

export function renderCycle(s: CycleSummary, zone: string): string {
  const at = (d: Date) => localDateTime(zone, d).slice(0, 16);
  const lines = [`Ciclo del daemon · ${at(s.startedAt)} (${zone})`];
  if (s.ticks.length === 0) lines.push('  Tareas:      ninguna pendiente');
  for (const t of s.ticks) {
    const what = t.kind === 'sync' ? 'Sincronización' : 'Recuperación';
    lines.push(
      t.claimed
        ? `  ${what} ${t.name} (${at(t.dueAt)}): ${STATUS[t.status ?? 'failed']}, ${count(t.requests, 'petición', 'peticiones')}, ${count(t.rows, 'fila', 'filas')}${t.unreachable ? ' · KLK no responde' : ''}${t.error && !t.unreachable ? ` · ${t.error}` : ''}`
        : `  ${what} ${t.name} (${at(t.dueAt)}): la tomó otro proceso`,
    );
  }
  const h = s.heal;
  lines.push(
    `  Revisión:    ${s.window.from} a ${s.window.to}`,
    `  Pendientes:  ${count(h.backlogBefore, 'día-tienda', 'días-tienda')} antes, ${int(h.backlogAfter)} después`,
    h.deferred
      ? `  Reparación:  en espera de la franja ${h.bigWindow} (más de ${int(h.bigAboveStoreDays)} días-tienda pendientes)`
      : h.attempted > 0
        ? `  Reparación:  ${count(h.attempted, 'día-tienda', 'días-tienda')} (presupuesto ${count(h.budget, 'petición', 'peticiones')}), ${count(h.requests, 'petición', 'peticiones')}, ${count(h.rows, 'fila', 'filas')} · ${STATUS[h.status ?? 'failed']}`
        : '  Reparación:  nada que reparar',
    ...(h.exhausted > 0
      ? [
          `  Abandonados: ${count(h.exhausted, 'día-tienda', 'días-tienda')} tras ${count(h.maxAttempts, 'intento', 'intentos')} (ver incidentes)`,
        ]
      : []),
    `  Incidentes:  ${count(s.incidents.open, 'abierto', 'abiertos')} (${count(s.incidents.opened, 'nuevo', 'nuevos')}, ${count(s.incidents.resolved, 'resuelto', 'resueltos')}, ${count(s.incidents.reminded, 'recordado', 'recordados')})`,
  );
  const d = s.deliveries;
  if (d.delivered + d.retrying + d.gaveUp > 0 || d.error)
    lines.push(
      `  Avisos:      ${count(d.delivered, 'enviado', 'enviados')}, ${int(d.retrying)} por reintentar${d.gaveUp ? `, ${count(d.gaveUp, 'abandonado', 'abandonados')}` : ''}${d.error ? ` · ${d.error}` : ''}`,
    );
  return lines.join('\n');
}
