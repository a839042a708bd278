/**
 * Whether anybody is working on a run, and what that makes of its stored status: a `running` run nobody works on
 * (its process died) is `interrupted`; which runs can be resumed or cancelled, and why not.
 */
import { backfillLeaseHolders, type BackfillStatus } from '../backfill/ledger.ts';
import { ownerProcess } from '../db/liveness.ts';
import type { Queryable } from '../db/types.ts';
import { liveHolderPrefixes } from '../sync/leases.ts';
import { leaseHolderPrefix, startingRuns, type RunStatus } from '../sync/runs.ts';

/** How long a lease lasts without renewal (the executor's and the ETL's default): older silence is a dead holder. */
const LEASE_MS = 2 * 60_000;

export interface Activity {
  /** A live process holds one of its leases: nobody else may take it up. */
  workedOn: boolean;
  /** Created moments ago and nothing claimed yet: shown running, though no process holds anything (a queued one may never be). */
  starting: boolean;
  /** `host:pid` of the live processes holding its chunks (for messages). */
  holders: string[];
}

const IDLE: Activity = { workedOn: false, starting: false, holders: [] };

/**
 * Per backfill: worked on while one of its chunks is under an unexpired lease (running, or pausing before a retry)
 * whose owner's process is not gone (db/liveness.ts, on any host). Starting while it was created less than a lease
 * ago and none of its chunks has been claimed yet (its executor is starting, or it waits for queue workers).
 */
export async function backfillActivity(db: Queryable, ids: readonly number[]): Promise<Map<number, Activity>> {
  const rows = await backfillLeaseHolders(db, ids, LEASE_MS);
  return new Map(
    rows.map((r) => [
      r.id,
      { workedOn: r.owners.length > 0, starting: r.starting, holders: [...new Set(r.owners.map(ownerProcess))] },
    ]),
  );
}

/**
 * Per ETL run: worked on while it holds an unexpired store lease (its leases are named after it, see leaseHolder, and
 * renewed while it works) whose holder's process is not gone. Starting while it began less than a lease ago (it may
 * still be waiting for its leases) and the process that runs it is not gone: one killed reads interrupted at once,
 * even after another run took its stores.
 */
export async function etlActivity(db: Queryable, ids: readonly number[]): Promise<Map<number, Activity>> {
  if (ids.length === 0) return new Map();
  const workedOn = new Set(await liveHolderPrefixes(db, ids.map(leaseHolderPrefix)));
  const recent = new Set(await startingRuns(db, ids, LEASE_MS));
  return new Map(
    ids.map((id) => [id, { workedOn: workedOn.has(leaseHolderPrefix(id)), starting: recent.has(id), holders: [] }]),
  );
}

export function activityOf(activities: ReadonlyMap<number, Activity>, id: number): Activity {
  return activities.get(id) ?? IDLE;
}

export type EffectiveStatus = BackfillStatus | RunStatus;

/** The status to show: a `running` run nobody works on any more (nor is starting) was interrupted: its process died. */
export function effectiveStatus<S extends EffectiveStatus>(stored: S, activity: Activity): S | 'interrupted' {
  return stored === 'running' && !activity.workedOn && !activity.starting ? 'interrupted' : stored;
}

/** What a person may do with a run now: null when allowed, else why not (a phrase after "el backfill #12 ..."). */
export interface Standing {
  status: EffectiveStatus;
  notResumable: string | null;
  notCancellable: string | null;
}

/**
 * A backfill can be resumed when it is not complete nor cancelled and no live process holds its chunks (interrupted,
 * partial, failed, running with its process dead, or queued and not yet taken by a worker); it can be cancelled
 * until it is complete or cancelled.
 */
export function backfillStanding(stored: BackfillStatus, activity: Activity): Standing {
  const status = effectiveStatus(stored, activity);
  if (stored === 'complete')
    return {
      status,
      notResumable: 'ya terminó completo (no queda nada que reanudar)',
      notCancellable: 'ya terminó (completo)',
    };
  if (stored === 'cancelled')
    return {
      status,
      notResumable: 'fue cancelado (lo que quedaba pendiente ya no se ejecuta)',
      notCancellable: 'ya terminó (cancelado)',
    };
  if (stored === 'running' && activity.workedOn) {
    return {
      status,
      notResumable: `lo está ejecutando otro proceso (${activity.holders.join(', ')})`,
      notCancellable: null,
    };
  }
  return { status, notResumable: null, notCancellable: null };
}

/** An ETL run is never resumed (the next ETL or the nightly recovery catches up); only one whose process died can be cancelled. */
export function etlStanding(type: string, stored: RunStatus, activity: Activity): Standing {
  const status = effectiveStatus(stored, activity);
  const notResumable =
    'es una ejecución del ETL: no se reanuda (la próxima ejecución o la recuperación nocturna recoge lo que faltó)';
  if (type === 'backfill')
    return {
      status,
      notResumable,
      notCancellable: 'es una ejecución de un backfill: cancele el backfill (ventas runs cancel ID del backfill)',
    };
  if (stored !== 'running')
    return { status, notResumable, notCancellable: `ya terminó (estado: ${RUN_STATUS_ES[stored]})` };
  if (activity.workedOn || activity.starting) {
    return {
      status,
      notResumable,
      notCancellable: 'sigue en curso (sus tiendas están bajo arriendo): deténgala en su proceso con Ctrl-C o SIGTERM',
    };
  }
  return { status, notResumable, notCancellable: null };
}

/** Statuses as the users read them. */
export const RUN_STATUS_ES: Record<EffectiveStatus, string> = {
  running: 'en curso',
  interrupted: 'interrumpido',
  cancelled: 'cancelado',
  complete: 'completo',
  partial: 'parcial',
  failed: 'fallido',
  success: 'éxito',
  skipped: 'omitido',
};

/** Run types as the users read them (the same as the dashboard's). */
export const RUN_TYPE_ES: Record<string, string> = {
  backfill: 'Backfill',
  scheduled: 'ETL programado',
  manual: 'ETL manual',
  recovery: 'ETL de recuperación',
};
