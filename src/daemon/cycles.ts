import type { DayState } from '../coverage/states.ts';
import type { Queryable } from '../db/types.ts';

/**
 * What each daemon cycle did, the one module whose SQL names `daemon_cycles`: the shared record every daemon process
 * reads, so a standby tells the leader's last cycle, backlog and heal budget, and the budget holds per rolling hour
 * whoever led. Times are the ventas clock's. Only the last two days are kept (each record deletes what is older).
 */

/** How long a cycle's record is kept: well beyond the rolling hour of the budget and the readiness' two intervals. */
const KEPT = '2 days';

export interface CycleRecord {
  owner: string;
  startedAt: Date;
  endedAt: Date;
  /** KLK requests the heal actually sent (retries included). */
  healRequests: number;
  /** Store-days left waiting for the heal; null when the cycle failed before it knew. */
  backlog: number | null;
  storeDays: Partial<Record<DayState, number>> | null;
  /** Why the cycle failed; null when it ended well. */
  error: string | null;
}

/** Records one cycle, forgetting those ended more than two days before it. */
export async function recordCycle(db: Queryable, cycle: CycleRecord): Promise<void> {
  await db.query(
    `WITH old AS (DELETE FROM daemon_cycles WHERE ended_at < $3::timestamptz - interval '${KEPT}')
     INSERT INTO daemon_cycles (owner, started_at, ended_at, heal_requests, backlog, day_states, error)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [
      cycle.owner,
      cycle.startedAt,
      cycle.endedAt,
      cycle.healRequests,
      cycle.backlog,
      cycle.storeDays === null ? null : JSON.stringify(cycle.storeDays),
      cycle.error,
    ],
  );
}

interface CycleRow {
  owner: string;
  started_at: Date;
  ended_at: Date;
  heal_requests: number;
  backlog: number | null;
  day_states: Partial<Record<DayState, number>> | null;
  error: string | null;
}

/** The last cycle that ended well, whoever ran it; null before the first. */
export async function lastCycle(db: Queryable): Promise<CycleRecord | null> {
  const { rows } = await db.query<CycleRow>(
    `SELECT owner, started_at, ended_at, heal_requests, backlog, day_states, error FROM daemon_cycles
     WHERE error IS NULL ORDER BY ended_at DESC, id DESC LIMIT 1`,
  );
  const r = rows[0];
  return r
    ? {
        owner: r.owner,
        startedAt: r.started_at,
        endedAt: r.ended_at,
        healRequests: r.heal_requests,
        backlog: r.backlog,
        storeDays: r.day_states,
        error: r.error,
      }
    : null;
}

/**
 * The heal requests of the cycles that ended in the hour before `at`, failed ones included. A cycle that ended
 * earlier sent all its requests earlier, so whatever rolling hour holds requests of the cycle that starts at `at`
 * holds only requests of cycles counted here.
 */
export async function healRequestsInHour(db: Queryable, at: Date): Promise<number> {
  const { rows } = await db.query<{ used: number }>(
    `SELECT coalesce(sum(heal_requests), 0)::int AS used FROM daemon_cycles
     WHERE ended_at > $1::timestamptz - interval '1 hour'`,
    [at],
  );
  return rows[0]?.used ?? 0;
}
