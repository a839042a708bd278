import type { Chunk, ChunkState } from '../backfill/ledger.ts';
import type { Queryable } from '../db/types.ts';

/**
 * The ledger seen from one job: a job names its chunk, so the worker claims that chunk (not the next one of the
 * backfill, as the in-process executor does) and, when it is done with it, asks where it stands.
 */

/**
 * Claims the given chunk with a lease, on the same terms as the ledger's claimChunk: pending and past its retry
 * pause, or running under a lease that ran out (its holder died). Null when it is not ours to run now, or never
 * (its backfill was cancelled).
 */
export async function claimChunkById(db: Queryable, chunkId: number, owner: string, leaseMs: number): Promise<Chunk | null> {
  const { rows } = await db.query<Chunk>(
    `UPDATE backfill_chunks SET state = 'running', lease_owner = $2, lease_until = now() + $3 * interval '1 millisecond',
       attempts = attempts + 1, updated_at = now()
     WHERE id = $1
       AND ((state = 'pending' AND (lease_until IS NULL OR lease_until < now())) OR (state = 'running' AND lease_until < now()))
       AND NOT EXISTS (SELECT 1 FROM backfills b WHERE b.id = backfill_chunks.backfill_id AND b.status = 'cancelled')
     RETURNING id, backfill_id AS "backfillId", store_id AS "storeId", to_char(day_from, 'YYYY-MM-DD') AS "dayFrom",
       to_char(day_to, 'YYYY-MM-DD') AS "dayTo", state, attempts`,
    [chunkId, owner, leaseMs],
  );
  return rows[0] ?? null;
}

export interface ChunkStanding {
  state: ChunkState;
  /** Seconds until it may be claimed: the end of its retry pause, or of its holder's lease; 0 when it may now. */
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
       greatest(ceil(extract(epoch FROM c.lease_until - now())), 0)::int AS "waitSeconds",
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
