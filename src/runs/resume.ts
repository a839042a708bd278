/**
 * Which backfill `ventas backfill --resume` continues: the newest resumable one, the one named (`--resume ID`), or
 * the newest resumable one started with the given window and stores (the original command plus `--resume`).
 * Anything else is bad input that says why and what can be resumed.
 */
import { getBackfill, unfinishedBackfills, type BackfillRow } from '../backfill/ledger.ts';
import type { Queryable } from '../db/types.ts';
import type { IsoDate } from '../shared/dates.ts';
import { UsageError } from '../shared/errors.ts';
import { RunStateError, UnknownRunError } from './errors.ts';
import { resumeCommand } from './ref.ts';
import { storesText } from './render.ts';
import { activityOf, backfillActivity, backfillStanding } from './status.ts';

export interface ResumeTarget {
  /** `--resume ID`. */
  id?: number;
  /** `--from/--to[/--stores]` given with `--resume`: the window and stores the backfill was started with. */
  scope?: { from: IsoDate; to: IsoDate; stores: readonly string[] };
}

type Scope = NonNullable<ResumeTarget['scope']>;

function sameScope(params: BackfillRow['params'], scope: Scope): boolean {
  const sorted = (ids: readonly string[]) => [...new Set(ids)].sort().join(',');
  return params.from === scope.from && params.to === scope.to && sorted(params.stores) === sorted(scope.stores);
}

function scopeText(scope: Scope): string {
  return `${scope.from} a ${scope.to}, ${storesText(scope.stores)}`;
}

/** Backfills that could be resumed now, newest first. */
export async function resumableBackfills(db: Queryable): Promise<BackfillRow[]> {
  const rows = await unfinishedBackfills(db);
  const activity = await backfillActivity(
    db,
    rows.map((r) => r.id),
  );
  return rows.filter((r) => backfillStanding(r.status, activityOf(activity, r.id)).notResumable === null);
}

/** The resumable backfills, one per line with the command that resumes each; or that there is none. */
function listing(resumable: readonly BackfillRow[]): string {
  if (resumable.length === 0) return 'No hay ningún backfill reanudable.';
  return [
    'Backfills reanudables:',
    ...resumable.map((r) => `  #${r.id}  ${scopeText(r.params)}  →  ${resumeCommand(r.id)}`),
  ].join('\n');
}

/** The backfill to resume; UsageError (exit 2) naming why when there is none or the request contradicts itself. */
export async function chooseBackfillToResume(db: Queryable, target: ResumeTarget): Promise<BackfillRow> {
  const { id, scope } = target;
  if (id !== undefined) {
    const row = await getBackfill(db, id);
    if (!row) throw new UnknownRunError(`no existe el backfill #${id}.\n${listing(await resumableBackfills(db))}`);
    const standing = backfillStanding(row.status, activityOf(await backfillActivity(db, [id]), id));
    if (standing.notResumable)
      throw new RunStateError(`el backfill #${id} no se puede reanudar: ${standing.notResumable}`);
    if (scope && !sameScope(row.params, scope)) {
      throw new UsageError(
        `conflicto: el backfill #${id} es de ${scopeText(row.params)}, pero se pidió ${scopeText(scope)}. ` +
          `Reanúdelo sin --from/--to/--stores (${resumeCommand(id)}) o pida la ventana y las tiendas con que se inició`,
      );
    }
    return row;
  }
  const resumable = await resumableBackfills(db);
  if (scope) {
    const match = resumable.find((r) => sameScope(r.params, scope));
    if (!match) throw new UsageError(`ningún backfill reanudable es de ${scopeText(scope)}.\n${listing(resumable)}`);
    return match;
  }
  if (resumable.length === 0) throw new UsageError('no hay ningún backfill sin terminar que reanudar');
  return resumable[0]!;
}
