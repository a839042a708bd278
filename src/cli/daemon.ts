import { runCycle, type CycleSummary } from '../daemon/cycle.ts';
import { createDaemonMetrics } from '../daemon/metrics.ts';
import { openKlk } from '../klk/open.ts';
import { now } from '../shared/clock.ts';
import { localDateTime } from '../shared/dates.ts';
import { ExitCode, UsageError } from '../shared/errors.ts';
import { int } from '../shared/format.ts';
import { createLogger, flushLogger } from '../shared/logger.ts';
import { klkBaseUrl, openDatabase, resolveConfig } from './context.ts';
import type { Cli } from './main.ts';

export interface DaemonFlags {
  once?: boolean;
  klkUrl?: string;
  config?: string;
  format: 'table' | 'json';
}

/** `ventas daemon --once`: one cycle (sync, check, heal within budget, alerts); exit 1 while an incident is open. */
export async function daemonCommand(cli: Cli, flags: DaemonFlags): Promise<number> {
  if (!flags.once)
    throw new UsageError('por ahora solo existe `ventas daemon --once` (un ciclo y termina); el modo continuo llegará');
  const config = resolveConfig(flags);
  const baseUrl = klkBaseUrl(config, flags.klkUrl);
  const logger = createLogger();
  const metrics = createDaemonMetrics({ processMetrics: false });
  const db = await openDatabase();
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
    cli.io.out(flags.format === 'json' ? JSON.stringify(summary) : renderCycle(summary, zone));
    return summary.incidents.open > 0 ? ExitCode.partial : ExitCode.ok;
  } finally {
    await db.close();
    await flushLogger(logger);
  }
}

const STATUS = {
  success: 'éxito',
  partial: 'parcial',
  failed: 'fallida',
  skipped: 'omitida',
  running: 'en curso',
  interrupted: 'interrumpida',
  cancelled: 'cancelada',
} as const;

export function renderCycle(s: CycleSummary, zone: string): string {
  const at = (d: Date) => localDateTime(zone, d).slice(0, 16);
  const lines = [`Ciclo del daemon · ${at(s.startedAt)} (${zone})`];
  if (s.ticks.length === 0) lines.push('  Tareas:      ninguna pendiente');
  for (const t of s.ticks) {
    const what = t.kind === 'sync' ? 'Sincronización' : 'Recuperación';
    lines.push(
      t.claimed
        ? `  ${what} ${t.name} (${at(t.dueAt)}): ${STATUS[t.status ?? 'failed']}, ${int(t.requests)} peticiones, ${int(t.rows)} filas${t.unreachable ? ' · KLK no responde' : ''}${t.error && !t.unreachable ? ` · ${t.error}` : ''}`
        : `  ${what} ${t.name} (${at(t.dueAt)}): la tomó otro proceso`,
    );
  }
  const h = s.heal;
  lines.push(
    `  Revisión:    ${s.window.from} a ${s.window.to}`,
    `  Pendientes:  ${int(h.backlogBefore)} días-tienda antes, ${int(h.backlogAfter)} después`,
    h.deferred
      ? `  Reparación:  en espera de la franja ${h.bigWindow} (más de ${int(h.bigAboveStoreDays)} días-tienda pendientes)`
      : h.attempted > 0
        ? `  Reparación:  ${int(h.attempted)} días-tienda (presupuesto ${int(h.budget)} peticiones), ${int(h.requests)} peticiones, ${int(h.rows)} filas · ${STATUS[h.status ?? 'failed']}`
        : '  Reparación:  nada que reparar',
    ...(h.exhausted > 0
      ? [`  Abandonados: ${int(h.exhausted)} días-tienda tras ${int(h.maxAttempts)} intentos (ver incidentes)`]
      : []),
    `  Incidentes:  ${int(s.incidents.open)} abiertos (${int(s.incidents.opened)} nuevos, ${int(s.incidents.resolved)} resueltos, ${int(s.incidents.reminded)} recordados)`,
  );
  const d = s.deliveries;
  if (d.delivered + d.retrying + d.gaveUp > 0 || d.error)
    lines.push(
      `  Avisos:      ${int(d.delivered)} enviados, ${int(d.retrying)} por reintentar${d.gaveUp ? `, ${int(d.gaveUp)} abandonados` : ''}${d.error ? ` · ${d.error}` : ''}`,
    );
  return lines.join('\n');
}
