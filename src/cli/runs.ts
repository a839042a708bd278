import { cancelRun } from '../runs/cancel.ts';
import { runDetail } from '../runs/detail.ts';
import { listRuns } from '../runs/history.ts';
import { formatRunRef, parseRunRef } from '../runs/ref.ts';
import { renderCancel, renderRunDetail, renderRunsTable } from '../runs/render.ts';
import { openDatabase, resolveConfig } from './context.ts';
import type { Cli } from './main.ts';

export interface RunsFlags {
  limit: number;
  format: 'table' | 'json';
  config?: string;
}

/** Times are shown in the stores' zone, like every other report. */
function timeZoneOf(flags: { config?: string }): string {
  return resolveConfig(flags).stores[0]?.timeZone ?? 'America/Caracas';
}

/** `ventas runs [list]`: the last runs, newest first. */
export async function runsListCommand(cli: Cli, flags: RunsFlags): Promise<void> {
  const timeZone = timeZoneOf(flags);
  const db = await openDatabase(cli);
  try {
    const items = await listRuns(db, flags.limit);
    cli.io.out(flags.format === 'json' ? JSON.stringify({ runs: items }) : renderRunsTable(items, timeZone));
  } finally {
    await db.close();
  }
}

/** `ventas runs show ID`: one run in detail. */
export async function runsShowCommand(cli: Cli, id: string, flags: Omit<RunsFlags, 'limit'>): Promise<void> {
  const ref = parseRunRef(id);
  const timeZone = timeZoneOf(flags);
  const db = await openDatabase(cli);
  try {
    const detail = await runDetail(db, ref);
    cli.io.out(flags.format === 'json' ? JSON.stringify(detail) : renderRunDetail(detail, timeZone));
  } finally {
    await db.close();
  }
}

/** `ventas runs cancel ID`: a backfill cancelled, or an ETL run whose process died closed. */
export async function runsCancelCommand(cli: Cli, id: string, flags: Pick<RunsFlags, 'format'>): Promise<void> {
  const ref = parseRunRef(id);
  const db = await openDatabase(cli);
  try {
    const outcome = await cancelRun(db, ref);
    cli.io.out(
      flags.format === 'json'
        ? JSON.stringify({ runId: ref.kind === 'backfill' ? ref.id : formatRunRef(ref), status: 'cancelled' })
        : renderCancel(outcome),
    );
  } finally {
    await db.close();
  }
}
