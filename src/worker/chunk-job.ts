import type { ChunkState } from '../backfill/ledger.ts';
import type { Queryable } from '../db/types.ts';

/**
 * The ledger seen from one job: a job names its chunk, so the worker claims that chunk (claimChunkById: the
 * ledger's one rule, as the in-process executor's claim) and, when it is done with it, asks where it stands.
 */
export { claimChunkById } from '../backfill/ledger.ts';

/**
 * How soon a job whose chunk runs under a live worker's lease comes back to look again: that worker may die long
 * before its lease ends, and its chunk is then taken at once (the lease is only the last resort).
 */
const HOLDER_CHECK_SECONDS = 5;

export interface ChunkStanding {
  state: ChunkState;
  /**
   * Seconds until its job should try again: the end of its retry pause, or of its holder's lease but at most
   * HOLDER_CHECK_SECONDS; 0 when it may be claimed now.
   */
  waitSeconds: number;
  /** The halves of a split chunk. */
  children: number[];
  /** Its backfill was cancelled: the chunk will never run, so its job ends. */
  cancelled: boolean;
}

/** Where a chunk stands; null when it no longer exists (its backfill was deleted). */
export async function chunkStanding(db: Queryable, chunkId: number): Promise<ChunkStanding | null> {
  const { rows } = await db.query<ChunkStanding>(
    `SELECT c.state,
       greatest(least(ceil(extract(epoch FROM c.lease_until - now())),
         CASE WHEN c.state = 'running' THEN ${HOLDER_CHECK_SECONDS} END), 0)::int AS "waitSeconds",
       coalesce((SELECT array_agg(h.id ORDER BY h.id) FROM backfill_chunks h WHERE h.parent_id = c.id), '{}') AS children,
       EXISTS (SELECT 1 FROM backfills b WHERE b.id = c.backfill_id AND b.status = 'cancelled') AS cancelled
     FROM backfill_chunks c WHERE c.id = $1`,
    [chunkId],
  );
  return rows[0] ?? null;
}

/** The chunks of a backfill still to be run: what its jobs are for. */
export async function unfinishedChunkIds(db: Queryable, backfillId: number): Promise<number[]> {
  const { rows } = await db.query<{ id: number }>(
    `SELECT id FROM backfill_chunks WHERE backfill_id = $1 AND state IN ('pending', 'running') ORDER BY id`,
    [backfillId],
  );
  return rows.map((r) => r.id);
}
