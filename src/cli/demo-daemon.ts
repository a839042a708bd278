import type { Config } from '../catalogue/config.ts';
import type { CycleSummary } from '../daemon/cycle.ts';
import { CYCLE_SPEED, DAEMON_DAY, hhmm, runDaemonDay, SCRIPT, type DaemonDayEvent } from '../demo/daemon-day.ts';
import type { Db } from '../db/types.ts';
import { SEED_TO } from '../demo/seed-situation.ts';
import { count, decimal, int } from '../shared/format.ts';
import type { Logger } from '../shared/logger.ts';
import type { RunningSimulator } from '../sim/index.ts';
import type { Cli } from './main.ts';
import { STATUS_LABEL as STATUS } from './status-label.ts';

const ALERT: Record<string, string> = {
  'incident.opened': 'incidente abierto',
  'incident.reminder': 'recordatorio',
  'incident.resolved': 'incidente resuelto',
};

/** One cycle in one line: what ran, the heal, the outage day's lines against KLK's, the incidents open. */
function cycleLine(s: CycleSummary, day: { table: number; klk: number }, zone: string): string {
  const parts = s.ticks
    .filter((t) => t.claimed)
    .map((t) => {
      const what = t.kind === 'sync' ? 'sincronización' : 'recuperación nocturna';
      if (t.status === 'success') return `${what} ${count(t.rows, 'fila', 'filas')}`;
      return `${what} ${t.unreachable ? 'sin respuesta de KLK' : `${STATUS[t.status ?? 'failed']}`}`;
    });
  if (parts.length === 0) parts.push('revisión');
  const h = s.heal;
  if (h.attempted > 0)
    parts.push(
      `reparación de ${count(h.attempted, 'día-tienda', 'días-tienda')} (${int(h.requests)} de ${int(h.budget)} peticiones por hora)`,
    );
  else if (h.deferred)
    parts.push(`${count(h.backlogBefore, 'día-tienda espera', 'días-tienda esperan')} a la franja ${h.bigWindow}`);
  const missing = day.klk - day.table;
  parts.push(
    `${DAEMON_DAY} en la tabla: ${int(day.table)} de ${int(day.klk)} líneas vendidas${missing > 0 ? ` (faltan ${int(missing)})` : ''}`,
  );
  if (s.incidents.open > 0) parts.push(count(s.incidents.open, 'incidente abierto', 'incidentes abiertos'));
  return `   ${hhmm(zone, s.startedAt)}  ${parts.join(' · ')}`;
}

/**
 * `ventas demo --daemon`'s last act on the console: the daemon's simulated day as it happens, then the lookback
 * reconciled with KLK. True when the table came out equal to KLK with no incident left open.
 */
export async function daemonDayAct(
  cli: Cli,
  ctx: {
    db: Db;
    sim: RunningSimulator;
    config: Config;
    logger: Logger;
    hourSeconds: number;
    concurrency: number;
    port: number;
    keepPage?: (url: string) => Promise<void>;
  },
): Promise<{ ok: boolean; sim: RunningSimulator }> {
  const out = cli.io.out;
  let zone = 'America/Caracas';
  // A cycle's alerts are sent before it ends: told under its line.
  const alerts: string[] = [];
  const flushAlerts = () => alerts.splice(0).forEach((a) => out(a));
  const onEvent = (e: DaemonDayEvent) => {
    if (e.type === 'cycle') {
      out(cycleLine(e.summary, e.day, zone));
      flushAlerts();
    } else if (e.type === 'klk')
      out(
        e.reachable
          ? `   ${hhmm(zone, e.at)}  KLK vuelve a responder: la próxima sincronización pide también las horas sin filas de las seis últimas.`
          : `   ${hhmm(zone, e.at)}  KLK deja de responder: el simulador cierra su puerto (conexión rechazada).`,
      );
    else if (e.type === 'alert')
      alerts.push(
        `          Aviso por webhook${e.signed ? ' (firma válida)' : ' (¡firma inválida!)'}: ${ALERT[e.payload.event] ?? e.payload.event} · ${e.payload.incident.summary}`,
      );
    else cli.io.err(`   Ciclo fallido: ${(e.error as Error).message}`);
  };
  out('\n6. Un día del daemon (`ventas daemon`) sobre esta misma base, con reloj simulado (VENTAS_CLOCK):');
  let ok = false;
  const result = await runDaemonDay(ctx.db, ctx.sim, ctx.config, ctx.logger, {
    hourSeconds: ctx.hourSeconds,
    concurrency: ctx.concurrency,
    port: ctx.port,
    keepPage: ctx.keepPage,
    onStart: ({ clock, url, zone: chainZone }) => {
      zone = chainZone;
      out(
        `   ${DAEMON_DAY} desde las ${SCRIPT.start.slice(11)} hasta la recuperación nocturna de las ${SCRIPT.lastCycle.slice(11)}; ` +
          `cada hora simulada dura ${Number.isInteger(ctx.hourSeconds) ? int(ctx.hourSeconds) : decimal(ctx.hourSeconds, 2)} s (velocidad x${int(clock.speed)}; mientras un ciclo trabaja, ` +
          `x${int(CYCLE_SPEED)}: un minuto por segundo), y el simulador de KLK vive en el mismo reloj.`,
      );
      out(
        `   Guion: KLK deja de responder de ${SCRIPT.klkDown.slice(11)} a ${SCRIPT.klkUp.slice(11)}. ` +
          'Los avisos van a un webhook local y se muestran aquí.',
      );
      out(
        `   Desde el backfill (hasta el ${SEED_TO}) nadie cargó los días siguientes: el primer ciclo los recupera y repara.`,
      );
      out(`   Tablero en ${url}: estado del daemon, incidentes y cobertura, en vivo.\n`);
    },
    onEvent,
    onDone: (result) => {
      flushAlerts();
      const v = result.verification;
      const clean = v.differing.length === 0 && v.failedStores.length === 0 && v.unproven.length === 0;
      out(
        `\n7. Verificación contra KLK (\`ventas verify --reconcile\`) de ${result.window.from} a ${result.window.to}:`,
      );
      out(
        clean
          ? `   Los ${int(v.checkedStoreDays)} días-tienda esperados coinciden con KLK, línea a línea y en USD.`
          : `   ${count(v.differing.length, 'día-tienda difiere', 'días-tienda difieren')} de KLK` +
              `${v.failedStores.length ? `; ${count(v.failedStores.length, 'tienda sin revisar', 'tiendas sin revisar')}` : ''}` +
              `${v.unproven.length ? `; ${count(v.unproven.length, 'día sin probar', 'días sin probar')}` : ''}.`,
      );
      out(
        `   Incidentes del día: ${int(result.opened)} ${result.opened === 1 ? 'abierto' : 'abiertos'}, ` +
          `${int(result.resolved)} ${result.resolved === 1 ? 'resuelto' : 'resueltos'} por sí ${result.resolved === 1 ? 'solo' : 'solos'}` +
          `${result.open > 0 ? `; ${count(result.open, 'sigue abierto', 'siguen abiertos')}` : '; ninguno queda abierto'}.`,
      );
      ok = clean && result.open === 0;
    },
  });
  return { ok, sim: result.sim };
}
