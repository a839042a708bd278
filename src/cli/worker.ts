import { hostname } from 'node:os';
import type { Config } from '../catalogue/config.ts';
import { summaryJson } from '../backfill/json.ts';
import { failedChunks, ledgerTotals, unfinishedChunkIds } from '../backfill/ledger.ts';
import { BACKFILL_STATUS, renderBackfillSummary, renderDryRun } from '../backfill/render.ts';
import { queueBackfill, type BackfillJob } from '../backfill/run.ts';
import { renderPlanTable } from '../plan/render-table.ts';
import { env } from '../shared/env.ts';
import { ExitCode, UsageError } from '../shared/errors.ts';
import { count, int } from '../shared/format.ts';
import { createLogger, flushLogger } from '../shared/logger.ts';
import { createProgress } from '../shared/progress.ts';
import { createKlkSlots } from '../worker/klk-slots.ts';
import { openChunkQueue } from '../worker/queue.ts';
import { waitForQueuedBackfill } from '../worker/wait.ts';
import { runWorker, type WorkerEvent } from '../worker/worker.ts';
import { openBackfillKlk } from '../klk/open.ts';
import { describeDatabaseEvent, klkBaseUrl, openDatabase, resolveConfig } from './context.ts';
import { onInterrupt } from './interrupt.ts';
import type { Cli } from './main.ts';

/** The distributed backfill needs a real PostgreSQL: PGlite is one process, the in-process executor is the way there. */
function requirePostgres(): string {
  const url = env().DATABASE_URL;
  if (!url)
    throw new UsageError(
      'el trabajo distribuido necesita PostgreSQL (DATABASE_URL); en PGlite use `ventas backfill` sin --queue',
    );
  return url;
}

/**
 * `ventas backfill --queue [--wait]` (called by the backfill command): plans and writes the ledger as usual, puts
 * one job per chunk on the queue, and returns; with --wait, follows the workers with progress and ends with the
 * same summary and exit code as `ventas backfill`.
 */
export async function queuedBackfill(
  cli: Cli,
  request: { config: Config; job: BackfillJob; queue: boolean; wait: boolean; json: boolean },
): Promise<number> {
  const { config, job, json } = request;
  if (!request.queue)
    throw new UsageError(
      '--wait acompaña a --queue: `ventas backfill --queue --wait` encola y espera a los trabajadores',
    );
  const databaseUrl = requirePostgres();
  const logger = createLogger();
  const db = await openDatabase(cli, { readOnly: job.dryRun });
  const progress = createProgress({
    isTty: cli.io.isTty && !json,
    label: 'Backfill en cola',
    write: (l) => cli.io.err(l),
  });
  try {
    // A dry run writes nothing, not even the queue's schema.
    const queue = job.dryRun ? null : await openChunkQueue({ databaseUrl, supervise: false, logger });
    let outcome: Awaited<ReturnType<typeof queueBackfill>>;
    try {
      outcome = await queueBackfill({ db, config, logger }, job, async (tx, { backfillId, runId }) => {
        const chunkIds = await unfinishedChunkIds(tx, backfillId);
        await queue!.enqueue(
          tx,
          chunkIds.map((chunkId) => ({ backfillId, chunkId, runId })),
        );
      });
    } finally {
      await queue?.stop();
    }
    if (!outcome.queued) {
      cli.io.out(renderDryRun(outcome, { json }));
      return ExitCode.ok;
    }
    const { backfillId, resumed } = outcome.queued;
    const queued = await ledgerTotals(db, backfillId);
    if (!json) {
      cli.io.out(
        `${resumed ? 'Backfill reanudado' : 'Backfill'} #${backfillId} en cola: ${count(queued.pending + queued.running, 'bloque', 'bloques')}, ${count(queued.storeDays - queued.storeDaysDone, 'día-tienda', 'días-tienda')} por hacer.`,
      );
      if (outcome.plan) cli.io.out(renderPlanTable(outcome.plan));
      cli.io.out(
        request.wait
          ? 'Esperando a los trabajadores (`ventas worker` en una o más máquinas)...'
          : 'Inicie `ventas worker` en una o más máquinas (mismas DATABASE_URL y KLK_BASE_URL) para ejecutarlo.',
      );
    }
    if (!request.wait) {
      if (json)
        cli.io.out(
          JSON.stringify({
            status: 'queued',
            backfillId,
            chunks: { total: queued.total, queued: queued.pending + queued.running },
            storeDays: queued.storeDays,
          }),
        );
      return ExitCode.ok;
    }
    const summary = await waitForQueuedBackfill(db, config, outcome.queued, {
      onProgress: (t) => progress.update(t.storeDaysDone, t.storeDays, { lines: t.lines, unit: 'días-tienda' }),
    });
    progress.stop();
    const failed = summary.chunks.failed > 0 ? await failedChunks(db, summary.backfillId) : [];
    cli.io.out(
      json
        ? JSON.stringify(summaryJson(summary))
        : renderBackfillSummary(summary, {
            resumeCommand: `npx ventas backfill --queue --resume ${summary.backfillId} --wait`,
            failed,
          }),
    );
    return summary.status === 'complete' ? ExitCode.ok : ExitCode.partial;
  } finally {
    progress.stop();
    await db.close();
    await flushLogger(logger);
  }
}

export function describeEvent(event: WorkerEvent): string {
  if (event.type === 'backfill-finished') {
    const { summary } = event;
    return `Backfill #${summary.backfillId} terminado: ${BACKFILL_STATUS[summary.status]} (${int(summary.chunks.done)} de ${count(summary.chunks.total, 'bloque', 'bloques')})`;
  }
  if (event.type === 'database-lost' || event.type === 'database-back') {
    return describeDatabaseEvent(
      event.type === 'database-lost'
        ? { state: 'lost', patienceMs: Infinity, detail: event.detail }
        : { state: 'back', downMs: event.downMs },
      'el trabajador',
    );
  }
  const { chunk, outcome, lines } = event;
  const window = chunk.dayFrom === chunk.dayTo ? chunk.dayFrom : `${chunk.dayFrom} a ${chunk.dayTo}`;
  const what = {
    done: count(lines, 'línea', 'líneas'),
    split: 'tiempo agotado: dividido en dos',
    retry: 'falló: se reintentará',
    failed: `fallido tras ${count(chunk.attempts, 'intento', 'intentos')}`,
    'handed-back': 'devuelto a la cola',
    lost: 'lo tomó otro trabajador (venció su concesión, o este proceso perdió su conexión con la base y se dio por muerto)',
  }[outcome];
  return `bloque #${chunk.id} ${chunk.storeId} ${window}: ${what}`;
}

export interface WorkerFlags {
  concurrency?: number;
  leaseSeconds: number;
  klkUrl?: string;
  config?: string;
}

/** `ventas worker`: runs queued chunks until SIGTERM. */
export async function workerCommand(cli: Cli, flags: WorkerFlags): Promise<number> {
  const databaseUrl = requirePostgres();
  const config = resolveConfig(flags);
  const baseUrl = klkBaseUrl(config, flags.klkUrl);
  const concurrency = flags.concurrency ?? config.concurrency;
  const logger = createLogger({ name: 'ventas-worker' });
  const db = await openDatabase(cli);
  const slots = createKlkSlots({ databaseUrl, baseUrl, connections: concurrency });
  // SIGTERM stops it cleanly (exit 0): no new chunk is taken, those in hand finish or, after a second signal
  // or the grace, go back to the queue for another worker.
  const interrupt = onInterrupt(cli, {
    first: (s) =>
      `no se toman más bloques; los que están en curso terminan (${s} s como máximo; otra señal los devuelve a la cola)`,
    second: 'los bloques en curso vuelven a la cola sin gastar un intento',
  });
  try {
    const queue = await openChunkQueue({ databaseUrl, supervise: true, logger });
    try {
      cli.io.out(
        `Trabajador ${hostname()}:${process.pid}: hasta ${count(concurrency, 'bloque', 'bloques')} a la vez, concesión de ${flags.leaseSeconds} s. SIGTERM lo detiene limpiamente.`,
      );
      const stats = await runWorker(
        {
          db,
          queue,
          config,
          klk: openBackfillKlk(config, { baseUrl, concurrency, logger }),
          slots,
          logger,
          concurrency,
          leaseMs: flags.leaseSeconds * 1000,
          // What happens to the database goes with the warnings, on stderr; the work done on stdout.
          onEvent: (event) => (event.type.startsWith('database') ? cli.io.err : cli.io.out)(describeEvent(event)),
        },
        { stop: interrupt.stop, abort: interrupt.abort },
      );
      cli.io.out(
        `Trabajador detenido: ${count(stats.chunksDone, 'bloque hecho', 'bloques hechos')}, ${count(stats.lines, 'línea', 'líneas')}.`,
      );
      return ExitCode.ok;
    } finally {
      await queue.stop();
    }
  } finally {
    interrupt.dispose();
    await slots.close();
    await db.close();
    await flushLogger(logger);
  }
}
