import { ownerGone, ownerKey } from '../db/liveness.ts';
import type { Queryable } from '../db/types.ts';

/**
 * What each of the daemon's ticks last ran for, the one module whose SQL names `daemon_ticks`: a tick runs once per
 * due time, whoever leads and whatever restarts. Its owners are liveness owners (db/liveness.ts): a run whose process
 * died reads as interrupted at once.
 */

export type TickStatus = 'running' | 'success' | 'failed';

export interface TickRecord {
  name: string;
  /** The due time last claimed: never claimed again, unless its run was interrupted. */
  lastDueAt: Date;
  owner: string;
  status: TickStatus;
  startedAt: Date;
  finishedAt: Date | null;
  error: string | null;
  /** Still `running` but its owner's process is gone: claimTick may take the same due time again. */
  interrupted: boolean;
  /** The end of its last successful run, whatever due times failed since (null: never succeeded). */
  lastSuccessAt: Date | null;
  /** The start of its first run KLK did not answer at all since its last success; null while KLK answers it. */
  unreachableSince: Date | null;
}

interface TickRow {
  name: string;
  last_due_at: Date;
  owner: string;
  status: TickStatus;
  run_started_at: Date;
  run_finished_at: Date | null;
  error: string | null;
  interrupted: boolean;
  last_success_at: Date | null;
  unreachable_since: Date | null;
}

/** Every tick's record, by name. */
export async function readTicks(db: Queryable): Promise<TickRecord[]> {
  const { rows } = await db.query<TickRow>(
    `SELECT name, last_due_at, owner, status, run_started_at, run_finished_at, error, last_success_at, unreachable_since,
       (status = 'running' AND ${ownerGone('owner')}) AS interrupted
     FROM daemon_ticks ORDER BY name`,
  );
  return rows.map((r) => ({
    name: r.name,
    lastDueAt: r.last_due_at,
    owner: r.owner,
    status: r.status,
    startedAt: r.run_started_at,
    finishedAt: r.run_finished_at,
    error: r.error,
    interrupted: r.interrupted,
    lastSuccessAt: r.last_success_at,
    unreachableSince: r.unreachable_since,
  }));
}

export interface TickClaim {
  name: string;
  /** The due time being run (schedule.ts tickState). */
  dueAt: Date;
  /** A liveness owner of the claiming process. */
  owner: string;
  /** The `ventas` clock's now (simulated time included), for the record's start and finish times. */
  at: Date;
}

/**
 * Claims `dueAt` of tick `name` for `owner`, or answers false: a compare-and-set, so even two leaders at once (for the
 * moment a lease changes hands) never both run one due time. It wins only if the tick never ran, last ran for an
 * earlier due time, or ran for this same one but was interrupted (still `running`, its owner's process gone): a
 * leader killed mid-tick loses no tick. A tick of this same process is never taken from it (its liveness lock can
 * be away for the moment its connection is replaced).
 */
export async function claimTick(db: Queryable, claim: TickClaim): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO daemon_ticks AS t (name, last_due_at, owner, status, run_started_at)
     VALUES ($1, $2, $3, 'running', $4)
     ON CONFLICT (name) DO UPDATE SET last_due_at = EXCLUDED.last_due_at, owner = EXCLUDED.owner, status = 'running',
       run_started_at = EXCLUDED.run_started_at, run_finished_at = NULL, error = NULL
     WHERE t.last_due_at < EXCLUDED.last_due_at
        OR (t.last_due_at = EXCLUDED.last_due_at AND t.status = 'running' AND ${ownerGone('t.owner')}
            AND ${ownerKey('t.owner')} IS DISTINCT FROM ${ownerKey('EXCLUDED.owner')})`,
    [claim.name, claim.dueAt, claim.owner, claim.at],
  );
  return rowCount === 1;
}

async function conclude(
  db: Queryable,
  claim: TickClaim,
  status: TickStatus,
  error: string | null,
  unreachable = false,
): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE daemon_ticks SET status = $4, run_finished_at = $5, error = $6,
       last_success_at = CASE WHEN $4 = 'success' THEN $5 ELSE last_success_at END,
       unreachable_since = CASE WHEN $7 THEN coalesce(unreachable_since, run_started_at) END
     WHERE name = $1 AND last_due_at = $2 AND owner = $3 AND status = 'running'`,
    [claim.name, claim.dueAt, claim.owner, status, claim.at, error, unreachable],
  );
  return rowCount === 1;
}

/** Marks a claimed run done; false if the claim is no longer this owner's (taken over as interrupted). */
export function finishTick(db: Queryable, claim: TickClaim): Promise<boolean> {
  return conclude(db, claim, 'success', null);
}

/**
 * Marks a claimed run failed, with why; its due time is not run again (the next one is). `unreachable`: KLK did not
 * answer at all, so the tick keeps (or starts) counting since when.
 */
export function failTick(
  db: Queryable,
  claim: TickClaim,
  error: string,
  options: { unreachable?: boolean } = {},
): Promise<boolean> {
  return conclude(db, claim, 'failed', error, options.unreachable ?? false);
}
