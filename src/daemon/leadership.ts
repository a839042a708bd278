import { ownerGone } from '../db/liveness.ts';
import type { Queryable } from '../db/types.ts';

/**
 * Which daemon leads, the one module whose SQL names `daemon_leader`: one row, a lease its holder renews (leader.ts).
 * The holder is a liveness owner (db/liveness.ts): should its process die, the lead is free at once.
 *
 * Lease times are the database's now(), not the `ventas` clock: a lease is about real processes in real time (a
 * simulated clock running 60 times faster must not expire a live leader), and one server clock serves every host.
 */

export interface LeaderRecord {
  holder: string;
  /** Since when this holder leads without a break. */
  since: Date;
  expiresAt: Date;
}

interface LeaderRow {
  holder: string;
  since: Date;
  expires_at: Date;
}

const leaderRecord = (r: LeaderRow): LeaderRecord => ({ holder: r.holder, since: r.since, expiresAt: r.expires_at });

/**
 * Takes the lead for `holder` for `leaseMs`, or returns null: when nobody leads, the lease ran out, or its holder's
 * process is gone. The holder itself may take it again (keeping `since`). One statement, so of candidates racing
 * exactly one wins.
 */
export async function acquireLeadership(db: Queryable, holder: string, leaseMs: number): Promise<LeaderRecord | null> {
  const { rows } = await db.query<LeaderRow>(
    `INSERT INTO daemon_leader AS l (holder, since, expires_at) VALUES ($1, now(), now() + $2 * interval '1 millisecond')
     ON CONFLICT (singleton) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at,
       since = CASE WHEN l.holder = EXCLUDED.holder THEN l.since ELSE EXCLUDED.since END
     WHERE l.holder = EXCLUDED.holder OR l.expires_at <= now() OR ${ownerGone('l.holder')}
     RETURNING holder, since, expires_at`,
    [holder, leaseMs],
  );
  return rows[0] ? leaderRecord(rows[0]) : null;
}

/** Extends `holder`'s lease by `leaseMs` from now; null if it no longer leads (another took over). */
export async function renewLeadership(db: Queryable, holder: string, leaseMs: number): Promise<LeaderRecord | null> {
  const { rows } = await db.query<LeaderRow>(
    `UPDATE daemon_leader SET expires_at = now() + $2 * interval '1 millisecond' WHERE holder = $1
     RETURNING holder, since, expires_at`,
    [holder, leaseMs],
  );
  return rows[0] ? leaderRecord(rows[0]) : null;
}

/** Gives the lead up, if `holder` has it, so another daemon takes it at once. */
export async function releaseLeadership(db: Queryable, holder: string): Promise<boolean> {
  const { rowCount } = await db.query(`DELETE FROM daemon_leader WHERE holder = $1`, [holder]);
  return rowCount === 1;
}

/** Who leads now (a lease run out or a holder gone is nobody), for /api/daemon. */
export async function readLeadership(db: Queryable): Promise<LeaderRecord | null> {
  const { rows } = await db.query<LeaderRow>(
    `SELECT holder, since, expires_at FROM daemon_leader WHERE expires_at > now() AND NOT ${ownerGone('holder')}`,
  );
  return rows[0] ? leaderRecord(rows[0]) : null;
}
