import { resolveWindow } from '../catalogue/index.ts';
import { computeCoverage, futureStoreDaysNote, rejectedStoreDaysNote, renderMarkdown } from '../coverage/index.ts';
import { planForReport } from '../backfill/evidence.ts';
import { renderPlanBash, renderPlanMarkdown, toPlanJson } from '../plan/index.ts';
import { renderPlanTable } from '../plan/render-table.ts';
import { now } from '../shared/clock.ts';
import { localDateTime } from '../shared/dates.ts';
import { openDatabase, resolveConfig } from './context.ts';
import type { Cli } from './main.ts';
import type { WindowFlags } from './options.ts';

export interface PlanFlags extends WindowFlags {
  format: 'table' | 'markdown' | 'bash' | 'json';
  concurrency?: number;
  program: string;
}

/** `ventas plan`: the backfill plan from the gaps. */
export async function planCommand(cli: Cli, flags: PlanFlags): Promise<void> {
  const config = resolveConfig(flags);
  const window = resolveWindow(flags, config);
  const db = await openDatabase(cli);
  try {
    const report = await computeCoverage(db, config, window);
    const plan = await planForReport(db, report, { config, concurrency: flags.concurrency });
    // Future and rejected days are never planned; the markdown says so in its coverage section, the others in
    // a line each (on stderr where stdout is for machines).
    const { futureStoreDays, rejectedStoreDays } = report.totals;
    const notes = [
      ...(futureStoreDays > 0 ? [futureStoreDaysNote(futureStoreDays)] : []),
      ...(rejectedStoreDays > 0 ? [rejectedStoreDaysNote(rejectedStoreDays)] : []),
    ];
    const note = notes.length > 0 ? notes.join('\n') : null;
    if (flags.format === 'json') cli.io.out(JSON.stringify(toPlanJson(plan, flags.program)));
    else if (flags.format === 'bash') cli.io.out(renderPlanBash(plan, { program: flags.program }));
    else if (flags.format === 'markdown') {
      const date = localDateTime(window.stores[0]?.timeZone ?? 'America/Caracas', now()).slice(0, 10);
      cli.io.out(renderPlanMarkdown(plan, { coverageMarkdown: renderMarkdown(report), date, program: flags.program }));
    } else cli.io.out(renderPlanTable(toPlanJson(plan, flags.program)) + (note ? `\n${note}` : ''));
    if (note && (flags.format === 'json' || flags.format === 'bash')) cli.io.err(note);
  } finally {
    await db.close();
  }
}
