import { BACKFILL_STATUS, renderBeforeAfter } from '../backfill/render.ts';
import { renderTable } from '../coverage/index.ts';
import { runDemo } from '../demo/run.ts';
import { SEED_FROM, SEED_TO } from '../demo/seed-situation.ts';
import { renderPlanTable } from '../plan/render-table.ts';
import { ExitCode } from '../shared/errors.ts';
import { count, int, seconds } from '../shared/format.ts';
import { createLogger, flushLogger, type Logger } from '../shared/logger.ts';
import { createProgress, type ProgressView } from '../shared/progress.ts';
import type { Config } from '../catalogue/config.ts';
import type { Db } from '../db/types.ts';
import { assertCanListen, startDashboard, untilStopSignal } from '../web/server.ts';
import { resolveConfig } from './context.ts';
import { daemonDayAct } from './demo-daemon.ts';
import type { Cli } from './main.ts';

export interface DemoFlags {
  scale: number;
  seed: number;
  concurrency: number;
  dataDir: string;
  config?: string;
  /** `--serve [port]`: the backfill from the dashboard instead of the terminal (with `--daemon`: the page kept open). */
  serve?: true | number;
  /** `--daemon`: after the verified result, the daemon runs a simulated day on it, KLK down for some hours. */
  daemon?: boolean;
  /** Real seconds of a simulated hour in `--daemon`'s day. */
  hourSeconds: number;
}

/** The port of the page while the daemon's day runs: the one asked, else 8080 when free, else any free one. */
async function daemonPagePort(serve: true | number | undefined): Promise<number> {
  if (serve !== undefined) return serve === true ? 8080 : serve;
  try {
    await assertCanListen(8080, '127.0.0.1');
    return 8080;
  } catch {
    return 0;
  }
}

/** `ventas demo --serve`: the dashboard on the demo's database, with the demo's simulator as KLK, until Ctrl+C. */
async function serveDemo(
  cli: Cli,
  options: { db: Db; config: Config; logger: Logger; klkUrl: string; port: number; concurrency: number },
): Promise<void> {
  const dashboard = await startDashboard({ ...options, host: '127.0.0.1', window: { from: SEED_FROM, to: SEED_TO } });
  cli.io.out('\n4. Backfill desde el tablero: ábralo en el navegador y pulse «Ejecutar backfill».');
  cli.io.out(`Tablero en ${dashboard.url}`);
  cli.io.out('Ctrl+C para terminar.');
  await untilStopSignal();
  cli.io.err('Deteniendo el tablero…');
  await dashboard.close();
}

/** `ventas demo` (what `npm start` runs): the whole story on embedded defaults. */
export async function demoCommand(cli: Cli, flags: DemoFlags): Promise<number> {
  const config = resolveConfig(flags);
  // A dashboard port already taken is known now, not after the whole situation has been recreated.
  if (flags.serve !== undefined) await assertCanListen(flags.serve === true ? 8080 : flags.serve, '127.0.0.1');
  const logger = createLogger({ name: 'ventas-demo' });
  const started = performance.now();
  const out = cli.io.out;
  out(`ventas · demo con la base embebida (${flags.dataDir}) y el simulador de KLK, escala ${flags.scale}`);
  out(`Situación: el plan de backfill del 2026-01-26, ${config.stores.length} tiendas, ${SEED_FROM} a ${SEED_TO}.\n`);
  let bar: ProgressView | null = null;
  const newBar = (label: string) => createProgress({ isTty: cli.io.isTty, label, write: (l) => cli.io.err(l) });
  let ok = false;
  // With --daemon the backfill runs here (the daemon's day needs the table whole); --serve then keeps the page open.
  const serving = flags.serve !== undefined && !flags.daemon;
  let estimatedSeconds: number | null = null;
  const { db, sim: startedSim } = await runDemo(
    config,
    {
      dataDir: flags.dataDir,
      seed: flags.seed,
      scale: flags.scale,
      concurrency: flags.concurrency,
      latencyMs: [40, 2],
      stopAfterPlan: serving,
    },
    logger,
    {
      phase(name) {
        bar?.stop();
        bar = null;
        if (name === 'history') {
          out(
            '1. Cargando con `ventas etl` la historia que sí estaba en la tabla (días presentes; algunos solo de 08:00 a 09:59)…',
          );
          bar = newBar('Historia');
        }
        if (name === 'gaps') out('\n2. Huecos detectados (`ventas gaps`):\n');
        if (name === 'backfill') out('\n3. Plan de backfill (`ventas plan`):\n');
        if (name === 'verify') out('\n5. Resultado verificado (`ventas verify`):\n');
      },
      onHistoryProgress: (done, total, lines) => bar?.update(done, total, { lines, unit: 'peticiones' }),
      onHistoryLoaded: (s) => {
        bar?.stop();
        out(
          `   ${count(s.totals.extracted, 'línea cargada', 'líneas cargadas')} en ${count(s.totals.requests, 'petición', 'peticiones')} (${seconds(s.durationMs)}).`,
        );
      },
      onGaps: (report) => out(renderTable(report, { color: cli.io.isTty })),
      onPlan: (plan) => {
        estimatedSeconds = plan.totals.estimatedSeconds;
        out(renderPlanTable(plan));
        if (serving) return;
        out('\n4. Backfill (`ventas backfill`), en paralelo y reanudable:');
        bar = newBar('Backfill');
      },
      onBackfillProgress: (done, total, lines) => bar?.update(done, total, { lines, unit: 'días-tienda' }),
      onBackfillDone: (summary, after) => {
        bar?.stop();
        out(
          `   Backfill #${summary.backfillId} ${BACKFILL_STATUS[summary.status]}: ${count(summary.chunks.done, 'bloque', 'bloques')}, ${count(summary.rowsInserted, 'fila insertada', 'filas insertadas')} en ${seconds(summary.seconds * 1000)}.`,
        );
        if (estimatedSeconds !== null && summary.seconds > estimatedSeconds * 1.4) {
          // The plan's model holds for a KLK elsewhere; here the simulator answers from this very process.
          out(
            `   (El plan estimó ~${estimatedSeconds} s: en la demo el simulador de KLK, la carga y la base embebida comparten un solo proceso, ` +
              'así que las peticiones no corren de verdad en paralelo; contra un KLK real la estimación usa sus tiempos medidos.)',
          );
        }
        out(`\n${renderBeforeAfter(summary.before, summary.after)}`);
        const pending = after.totals.missingStoreDays + after.totals.partialStoreDays + after.totals.rejectedStoreDays;
        ok = pending === 0 && summary.status === 'complete';
        out(
          ok
            ? `\nVerificado: los ${int(after.totals.expectedStoreDays)} días-tienda esperados de ${after.stores.length} tiendas están completos (cerrados y antes de la apertura de PARAISO excluidos).`
            : `\nQuedan ${int(pending)} días-tienda sin completar.`,
        );
      },
    },
  );
  let sim = startedSim;
  try {
    if (flags.daemon) {
      const day = await daemonDayAct(cli, {
        db,
        sim,
        config,
        logger,
        hourSeconds: flags.hourSeconds,
        concurrency: flags.concurrency,
        port: await daemonPagePort(flags.serve),
        keepPage:
          flags.serve === undefined
            ? undefined
            : async (url) => {
                out(
                  `\nEl tablero sigue en ${url} con el día del daemon, el reloj detenido donde terminó. Ctrl+C para terminar.`,
                );
                await untilStopSignal();
                cli.io.err('Deteniendo el tablero…');
              },
      });
      sim = day.sim;
      ok &&= day.ok;
    }
    if (serving) {
      await serveDemo(cli, {
        db,
        config,
        logger,
        klkUrl: sim.url,
        port: flags.serve === true ? 8080 : flags.serve!,
        concurrency: flags.concurrency,
      });
      return ExitCode.ok;
    }
  } finally {
    // Also when the dashboard cannot start (a port in use): nothing stays open, the process ends.
    await db.close();
    // A day that failed half-way has closed its simulator already.
    await sim.close().catch(() => undefined);
    await flushLogger(logger);
  }
  out(`\nDemo terminada en ${seconds(performance.now() - started)}.`);
  out(`Para verla a volumen real: npm start -- --scale 1   (o intermedio: --scale 0.2)`);
  out(`Los mismos comandos sobre su base: npx ventas gaps | plan | backfill | verify (ver README).`);
  out(`Para recuperar los huecos desde el tablero web: npm start -- --serve`);
  if (!flags.daemon) out(`Para ver al daemon vivir un día con KLK caído unas horas: npm start -- --daemon`);
  return ok ? ExitCode.ok : ExitCode.partial;
}
