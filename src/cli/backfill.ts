import { readFileSync } from 'node:fs';
import { summaryJson } from '../backfill/json.ts';
import { failedChunks } from '../backfill/ledger.ts';
import { renderBackfillSummary, renderDryRun } from '../backfill/render.ts';
import { runBackfill } from '../backfill/run.ts';
import { resolveWindow, selectStores, type Config, type Store } from '../catalogue/index.ts';
import { parsePlanJson, type PlanJson } from '../plan/index.ts';
import type { IsoDate } from '../shared/dates.ts';
import { renderPlanTable } from '../plan/render-table.ts';
import { ExitCode, UsageError } from '../shared/errors.ts';
import { createLogger, flushLogger } from '../shared/logger.ts';
import { createProgress } from '../shared/progress.ts';
import { openBackfillKlk } from '../klk/open.ts';
import { describeDatabaseEvent, klkBaseUrl, openDatabase, resolveConfig } from './context.ts';
import { onInterrupt } from './interrupt.ts';
import type { Cli } from './main.ts';
import type { WindowFlags } from './options.ts';
import { parseRunRef, resumeCommand } from '../runs/ref.ts';
import type { ResumeTarget } from '../runs/resume.ts';

export interface BackfillFlags extends WindowFlags {
  plan?: string;
  concurrency?: number;
  /** `--resume` alone: true; `--resume ID`: the id as typed. */
  resume?: boolean | string;
  mirror?: boolean;
  dryRun?: boolean;
  klkUrl?: string;
  format: 'table' | 'json';
  queue?: boolean;
  wait?: boolean;
}

function readPlan(path: string): PlanJson {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`no se puede leer el plan ${path}: ${(error as Error).message}`);
  }
  return parsePlanJson(text, path);
}

/**
 * A saved plan's own window and stores, checked against this catalogue before anything is written: a plan made for
 * other stores is bad input (exit 2), not a chunk that fails later.
 */
function planWindow(plan: PlanJson, config: Config): { from: IsoDate; to: IsoDate; stores: Store[] } {
  const ids = [...new Set(plan.phases.flatMap((p) => p.steps.flatMap((s) => s.stores)))];
  // A plan with no steps names no store: its scope is the whole catalogue, as when it was planned.
  return { from: plan.from, to: plan.to, stores: selectStores(config.stores, ids.length > 0 ? ids : undefined) };
}

/**
 * Which backfill `--resume` means: `--resume ID` that one; with `--from/--to/--stores` (the original command plus
 * `--resume`) the one started with that window and those stores (the same defaults as a new backfill); both, that
 * one only if it matches.
 */
function resumeTarget(flags: BackfillFlags, window: { from: IsoDate; to: IsoDate; stores: Store[] }): ResumeTarget {
  let id: number | undefined;
  if (typeof flags.resume === 'string') {
    const ref = parseRunRef(flags.resume);
    if (ref.kind !== 'backfill')
      throw new UsageError(
        `--resume ${flags.resume}: solo se reanudan backfills (se espera su número, p. ej. --resume 12)`,
      );
    id = ref.id;
  }
  const scoped = Boolean(flags.from || flags.to || flags.stores);
  return {
    id,
    scope: scoped ? { from: window.from, to: window.to, stores: window.stores.map((s) => s.id) } : undefined,
  };
}

/** `ventas backfill`: plans (or takes --plan) and executes, in parallel and resumable. */
export async function backfillCommand(cli: Cli, flags: BackfillFlags): Promise<number> {
  const config = resolveConfig(flags);
  if (flags.resume && flags.plan) {
    throw new UsageError('--resume continúa un backfill tal como se planificó: no admite --plan');
  }
  if (flags.plan && (flags.from || flags.to || flags.stores)) {
    throw new UsageError('--plan trae su propia ventana y sus tiendas: no admite --from, --to ni --stores');
  }
  const plan = flags.plan ? readPlan(flags.plan) : undefined;
  const window = plan ? planWindow(plan, config) : resolveWindow(flags, config);
  const resume = flags.resume ? resumeTarget(flags, window) : undefined;
  const concurrency = flags.concurrency ?? config.concurrency;
  // The distributed backfill: the same ledger, run by `ventas worker` processes; pg-boss loads only here.
  if (flags.queue || flags.wait) {
    const job = { ...window, plan, resume, mirror: flags.mirror, dryRun: flags.dryRun, concurrency };
    return (await import('./worker.ts')).queuedBackfill(cli, {
      config,
      job,
      queue: Boolean(flags.queue),
      wait: Boolean(flags.wait),
      json: flags.format === 'json',
    });
  }
  const baseUrl = klkBaseUrl(config, flags.klkUrl);
  const logger = createLogger();
  const db = await openDatabase(cli, { readOnly: flags.dryRun });
  const json = flags.format === 'json';
  const progress = createProgress({ isTty: cli.io.isTty && !json, label: 'Backfill', write: (l) => cli.io.err(l) });
  // A dry run writes nothing: Ctrl-C may end it as any command.
  const interrupt = flags.dryRun
    ? null
    : onInterrupt(cli, {
        first: (s) =>
          `no se toman más bloques; los que están en curso terminan (${s} s como máximo; otra señal los devuelve ya)`,
        second: 'los bloques en curso vuelven al registro sin gastar un intento',
      });
  try {
    const outcome = await runBackfill(
      {
        db,
        config,
        klk: openBackfillKlk(config, { baseUrl, concurrency, logger }),
        logger,
        firstAnswerMs: cli.limits.klkFirstAnswerMs,
        stop: interrupt?.stop,
        signal: interrupt?.abort,
        onStart: ({ backfillId, plan: p, resumed }) => {
          if (json) return;
          cli.io.out(resumed ? `Reanudando el backfill #${backfillId}` : `Backfill #${backfillId}`);
          if (p) cli.io.out(renderPlanTable(p));
        },
        onProgress: (t) => progress.update(t.storeDaysDone, t.storeDays, { lines: t.lines, unit: 'días-tienda' }),
        onBreaker: (state) => {
          if (state === 'open')
            cli.io.err('KLK falla seguido: peticiones en pausa; se probará de nuevo en unos segundos');
          if (state === 'closed') cli.io.err('KLK responde de nuevo: se reanudan las peticiones');
        },
        databasePatienceMs: config.database.reconnectSeconds * 1000,
        onDatabase: (event) => cli.io.err(describeDatabaseEvent(event, 'el backfill')),
      },
      { ...window, plan, resume, mirror: flags.mirror, dryRun: flags.dryRun, concurrency },
    );
    progress.stop();
    if (!outcome.summary) {
      cli.io.out(renderDryRun(outcome, { json }));
      return ExitCode.ok;
    }
    const { summary } = outcome;
    const failed = summary.chunks.failed > 0 ? await failedChunks(db, summary.backfillId) : [];
    const again = resumeCommand(summary.backfillId);
    const unprovenEmpty = outcome.after?.stores.reduce((n, s) => n + s.unprovenEmpty.length, 0) ?? 0;
    cli.io.out(
      json
        ? JSON.stringify(summaryJson(summary))
        : renderBackfillSummary(summary, { resumeCommand: again, failed, unprovenEmpty }),
    );
    if (summary.status === 'interrupted') {
      if (json) cli.io.err(`Backfill #${summary.backfillId} interrumpido. Para reanudarlo: ${again}`);
      return interrupt!.exitCode();
    }
    return summary.status === 'complete' ? ExitCode.ok : ExitCode.partial;
  } finally {
    interrupt?.dispose();
    progress.stop();
    await db.close();
    await flushLogger(logger);
  }
}
