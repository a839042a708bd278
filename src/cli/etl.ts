import { selectStores } from '../catalogue/index.ts';
import { shellQuote } from '../plan/json.ts';
import { redactArgs, redactUrl } from '../shared/redact.ts';
import { now as clockNow } from '../shared/clock.ts';
import { localDateTime } from '../shared/dates.ts';
import { ExitCode, UsageError } from '../shared/errors.ts';
import { count, int, seconds } from '../shared/format.ts';
import { createLogger, flushLogger } from '../shared/logger.ts';
import { createProgress } from '../shared/progress.ts';
import { resumeCommands, runEtl, type EtlSummary } from '../sync/etl.ts';
import {
  clampToStoreLife,
  incrementalInterval,
  parseCliDateTime,
  recoveryInterval,
  type Interval,
  type LocalDateTime,
} from '../sync/interval.ts';
import type { RunType } from '../sync/runs.ts';
import { openKlk } from '../klk/open.ts';
import { describeDatabaseEvent, klkBaseUrl, openDatabase, resolveConfig } from './context.ts';
import { onInterrupt } from './interrupt.ts';
import type { Cli } from './main.ts';
import { STATUS_LABEL } from './status-label.ts';

export interface EtlFlags {
  tiendas?: string[];
  todas?: boolean;
  fechaDesde?: string;
  fechaHasta?: string;
  chunkDays?: number;
  minutos: number;
  recoveryMode?: boolean;
  recoveryDays: number;
  dryRun?: boolean;
  gapRecovery: boolean;
  concurrency?: number;
  now?: string;
  klkUrl?: string;
  config?: string;
  format?: 'table' | 'json';
}

/** `ventas etl`: the seed's ETL, flag for flag. */
export async function etlCommand(cli: Cli, flags: EtlFlags): Promise<number> {
  const config = resolveConfig(flags);
  const stores = selectStores(config.stores, flags.todas ? undefined : flags.tiendas);
  const baseUrl = klkBaseUrl(config, flags.klkUrl);
  const timeZone = stores[0]?.timeZone ?? 'America/Caracas';
  const now: LocalDateTime = flags.now
    ? parseCliDateTime(flags.now, 'start', '--now')
    : localDateTime(timeZone, clockNow());
  const { type, interval } = chooseMode(flags, now);
  const targets = stores
    .map((store) => ({ store, interval: clampToStoreLife(store, interval) }))
    .flatMap((t) => (t.interval ? [{ store: t.store, intervals: [t.interval] }] : []));
  const chunkDays = flags.chunkDays ?? 1;
  const concurrency = flags.concurrency ?? config.concurrency;

  const logger = createLogger();
  const db = await openDatabase(cli, { readOnly: flags.dryRun });
  const progress = createProgress({
    isTty: cli.io.isTty && flags.format !== 'json',
    label: 'ETL',
    write: (l) => cli.io.err(l),
  });
  // What cron runs: a SIGTERM ends it recorded and resumable, never half-written and shown running.
  const interrupt = flags.dryRun
    ? null
    : onInterrupt(cli, {
        first: (s) =>
          `no se empiezan más peticiones; las que están en curso terminan (${s} s como máximo; otra señal las corta ya)`,
        second: 'se cortan las peticiones en curso; sus ventanas quedan en el comando que reanuda',
      });
  try {
    const summary = await runEtl(
      {
        db,
        klk: openKlk(config, { baseUrl, concurrency, logger }),
        logger,
        concurrency,
        stop: interrupt?.stop,
        signal: interrupt?.abort,
        onProgress: (p) => progress.update(p.requestsDone, p.requestsTotal, { lines: p.lines, unit: 'peticiones' }),
        databasePatienceMs: config.database.reconnectSeconds * 1000,
        onDatabase: (event) => cli.io.err(describeDatabaseEvent(event, 'la ejecución')),
      },
      {
        type,
        targets,
        chunkDays,
        dryRun: flags.dryRun,
        gapRecovery: type === 'scheduled' && flags.gapRecovery ? { now } : null,
        // As typed, quotes included, so the run history shows a command that runs again.
        command: ['ventas', ...redactArgs(cli.args)].map(shellQuote).join(' '),
      },
    );
    progress.stop();
    cli.io.out(
      flags.format === 'json' ? JSON.stringify(summaryJson(summary, interval)) : renderSummary(summary, interval),
    );
    if (summary.status === 'interrupted') {
      if (flags.format === 'json')
        cli.io.err(
          `ETL interrumpido. Para reanudarlo:\n${resumeCommands(summary)
            .map((c) => `  ${c}`)
            .join('\n')}`,
        );
      return interrupt!.exitCode();
    }
    const code = exitCode(summary);
    if (code === ExitCode.unreachable)
      cli.io.err(`error: KLK no responde en ${redactUrl(baseUrl)} (ninguna petición obtuvo respuesta)`);
    return code;
  } finally {
    interrupt?.dispose();
    progress.stop();
    await db.close();
    await flushLogger(logger);
  }
}

function chooseMode(flags: EtlFlags, now: LocalDateTime): { type: RunType; interval: Interval } {
  if (flags.recoveryMode) {
    if (flags.fechaDesde || flags.fechaHasta)
      throw new UsageError('--recovery-mode no se combina con --fecha-desde/--fecha-hasta');
    return { type: 'recovery', interval: recoveryInterval(now.slice(0, 10), flags.recoveryDays) };
  }
  if (flags.fechaDesde || flags.fechaHasta) {
    if (!flags.fechaDesde) throw new UsageError('falta --fecha-desde (se indicó solo --fecha-hasta)');
    const from = parseCliDateTime(flags.fechaDesde, 'start', '--fecha-desde');
    const to = flags.fechaHasta ? parseCliDateTime(flags.fechaHasta, 'end', '--fecha-hasta') : now;
    if (from > to)
      throw new UsageError(`--fecha-desde (${from.slice(0, 16)}) es posterior a --fecha-hasta (${to.slice(0, 16)})`);
    return { type: 'manual', interval: { from, to } };
  }
  return { type: 'scheduled', interval: incrementalInterval(now, flags.minutos) };
}

function exitCode(summary: EtlSummary): number {
  if (summary.status === 'success') return ExitCode.ok;
  const results = Object.values(summary.stores);
  // Nothing answered at all: KLK is down or the URL is wrong, which is a dependency problem (exit 3).
  if (results.length > 0 && results.every((r) => r.status === 'failed' && r.unreachable)) return ExitCode.unreachable;
  return ExitCode.partial;
}

function summaryJson(summary: EtlSummary, interval: Interval) {
  return {
    runId: summary.runId,
    type: summary.type,
    status: summary.status,
    dryRun: summary.dryRun,
    from: interval.from,
    to: interval.to,
    seconds: Math.round(summary.durationMs / 100) / 10,
    ...summary.totals,
    stores: summary.stores,
    resume: resumeCommands(summary),
  };
}

const TYPE_LABEL: Record<RunType, string> = {
  scheduled: 'programada',
  manual: 'manual',
  recovery: 'recuperación',
  backfill: 'backfill',
};

export function renderSummary(summary: EtlSummary, interval: Interval): string {
  const t = summary.totals;
  const lines = [
    `ETL de ventas ${summary.dryRun ? '(simulación, nada escrito) ' : ''}· ejecución ${TYPE_LABEL[summary.type]}${summary.runId ? ` #${summary.runId}` : ''} · ${STATUS_LABEL[summary.status]}`,
    `  Ventana:        ${interval.from.slice(0, 16)} a ${interval.to.slice(0, 16)}`,
    `  Duración:       ${seconds(summary.durationMs)}`,
    `  Tiendas:        ${t.storesOk} ok, ${t.storesFailed} con error, ${t.storesSkipped} omitidas${t.storesInterrupted ? `, ${count(t.storesInterrupted, 'interrumpida', 'interrumpidas')}` : ''}`,
    `  Peticiones:     ${int(t.requests)}`,
    `  Líneas:         ${int(t.extracted)} extraídas`,
    `  Filas:          ${int(t.inserted)} insertadas, ${int(t.updated)} actualizadas, ${int(t.unchanged)} sin cambios${t.deleted ? `, ${int(t.deleted)} borradas` : ''}`,
    `  Duplicados en origen: ${int(t.duplicates)} · En cuarentena: ${int(t.quarantined)}`,
  ];
  const unproven = Object.entries(summary.stores).filter(([, r]) => (r.unprovenEmptyDays?.length ?? 0) > 0);
  if (unproven.length > 0) {
    lines.push(
      '',
      'Días con 0 líneas sin probar (KLK respondió sin un «meta» que pruebe la respuesta completa; siguen faltando):',
    );
    for (const [id, r] of unproven) {
      const days = r.unprovenEmptyDays!;
      lines.push(`  ${id}: ${days.slice(0, 10).join(', ')}${days.length > 10 ? ` (y ${days.length - 10} más)` : ''}`);
    }
  }
  const problems = Object.entries(summary.stores).filter(([, r]) => r.status !== 'success');
  if (problems.length > 0) {
    lines.push('', 'Tiendas con problemas:');
    for (const [id, r] of problems) {
      const detail = `${r.errors.slice(0, 3).join('; ')}${r.errors.length > 3 ? ` (y ${r.errors.length - 3} más)` : ''}`;
      lines.push(`  ${id} (${STATUS_LABEL[r.status]})${detail ? `: ${detail}` : ''}`);
    }
    lines.push('', 'Para reanudar lo que faltó:');
    for (const c of resumeCommands(summary)) lines.push(`  ${c}`);
  }
  return lines.join('\n');
}
