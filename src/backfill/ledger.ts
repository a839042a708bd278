import { emptyStoreResult, type StoreResult } from '../sync/runs.ts';
import { ownerGone, ownerKey } from '../db/liveness.ts';
import type { Queryable } from '../db/types.ts';

/**
 * The chunk ledger of a backfill: one row per (store, whole-day range). A chunk is claimed with a lease, and marked
 * done in the same transaction that loads its rows, so a process killed at any moment leaves each chunk either
 * done (rows committed) or not (nothing committed): `--resume` finishes exactly what is left.
 */
export type ChunkState = 'pending' | 'running' | 'done' | 'failed' | 'split';

export interface Chunk {
  id: number;
  backfillId: number;
  storeId: string;
  dayFrom: string;
  dayTo: string;
  state: ChunkState;
  attempts: number;
}

/**
 * As stored. `interrupted`: stopped by a signal, resumable; `cancelled`: stopped for good by a person (its pending
 * chunks are never run). A `running` one whose process died is shown `interrupted` (see runs/status.ts).
 */
export type BackfillStatus = 'running' | 'complete' | 'partial' | 'failed' | 'interrupted' | 'cancelled';

export interface BackfillRow {
  id: number;
  status: BackfillStatus;
  params: BackfillParams;
  summary: unknown;
  createdAt: Date;
  finishedAt: Date | null;
}

export interface BackfillParams {
  from: string;
  to: string;
  stores: string[];
  mirror: boolean;
  concurrency: number;
  /** Coverage totals before the backfill started (kept so --resume still reports before/after). */
  before: unknown;
}

const CHUNK_COLUMNS = `id, backfill_id AS "backfillId", store_id AS "storeId", to_char(day_from, 'YYYY-MM-DD') AS "dayFrom",
  to_char(day_to, 'YYYY-MM-DD') AS "dayTo", state, attempts`;

export async function createBackfill(
  tx: Queryable,
  params: BackfillParams,
  chunks: ReadonlyArray<{ storeId: string; dayFrom: string; dayTo: string }>,
): Promise<number> {
  const { rows } = await tx.query<{ id: number }>(
    `INSERT INTO backfills (status, params) VALUES ('running', $1) RETURNING id`,
    [JSON.stringify(params)],
  );
  const id = rows[0]!.id;
  await tx.query(
    `INSERT INTO backfill_chunks (backfill_id, store_id, day_from, day_to)
     SELECT $1, s, f, t FROM unnest($2::text[], $3::date[], $4::date[]) AS c(s, f, t)`,
    [id, chunks.map((c) => c.storeId), chunks.map((c) => c.dayFrom), chunks.map((c) => c.dayTo)],
  );
  return id;
}

export async function getBackfill(db: Queryable, id: number): Promise<BackfillRow | null> {
  const { rows } = await db.query<BackfillRow>(
    `SELECT id, status, params, summary, created_at AS "createdAt", finished_at AS "finishedAt" FROM backfills WHERE id = $1`,
    [id],
  );
  return rows[0] ?? null;
}

/**
 * The one rule for taking a chunk, for the in-process executor's claim and a queue worker's alike: pending and past
 * its retry pause, or running under a lease that ran out or whose owner's process is gone (db/liveness.ts: killed,
 * crashed, on any host); never one of a cancelled backfill. A process never takes its own chunks for gone: while it
 * reconnects after a lost database its lock is briefly not held, and it is the one giving those chunks back. On a
 * row of backfill_chunks, unaliased, with the claiming owner as $2.
 */
const CLAIMABLE = `((backfill_chunks.state = 'pending' AND (backfill_chunks.lease_until IS NULL OR backfill_chunks.lease_until < now()))
    OR (backfill_chunks.state = 'running' AND (backfill_chunks.lease_until < now() OR (${ownerGone('backfill_chunks.lease_owner')}
      AND ${ownerKey('backfill_chunks.lease_owner')} IS DISTINCT FROM ${ownerKey('$2::text')}))))
  AND NOT EXISTS (SELECT 1 FROM backfills b WHERE b.id = backfill_chunks.backfill_id AND b.status = 'cancelled')`;

/** Takes the chunk `where` picks (by $1) for the owner $2, under a lease of $3 ms, one attempt more. */
async function claim(db: Queryable, where: string, params: [number, string, number]): Promise<Chunk | null> {
  const { rows } = await db.query<Chunk>(
    `UPDATE backfill_chunks SET state = 'running', lease_owner = $2, lease_until = now() + $3 * interval '1 millisecond',
       attempts = attempts + 1, updated_at = now()
     WHERE ${where}
     RETURNING ${CHUNK_COLUMNS}`,
    params,
  );
  return rows[0] ?? null;
}

/** Claims the next chunk of a backfill to run (the in-process executor), pending ones before those taken back. */
export function claimChunk(db: Queryable, backfillId: number, owner: string, leaseMs: number): Promise<Chunk | null> {
  return claim(
    db,
    `id = (SELECT id FROM backfill_chunks WHERE backfill_id = $1 AND ${CLAIMABLE}
           ORDER BY state = 'running', id LIMIT 1 FOR UPDATE SKIP LOCKED)`,
    [backfillId, owner, leaseMs],
  );
}

/**
 * Claims the chunk a queue job names (a worker), by the same rule. Null when it is not to be run now (another live
 * process holds it, or it waits out a retry pause), or never (done, or its backfill was cancelled).
 */
export function claimChunkById(db: Queryable, chunkId: number, owner: string, leaseMs: number): Promise<Chunk | null> {
  return claim(db, `id = $1 AND ${CLAIMABLE}`, [chunkId, owner, leaseMs]);
}

export async function renewChunkLeases(db: Queryable, owner: string, leaseMs: number): Promise<void> {
  await db.query(
    `UPDATE backfill_chunks SET lease_until = now() + $2 * interval '1 millisecond' WHERE state = 'running' AND lease_owner = $1`,
    [owner, leaseMs],
  );
}

/** Marks a chunk done; false when the lease was lost to another process (the caller then rolls back its load). */
export async function completeChunk(
  tx: Queryable,
  chunkId: number,
  owner: string,
  result: { lines: number; inserted: number; updated: number; deleted: number; duplicates: number; quarantined: number },
): Promise<boolean> {
  const { rowCount } = await tx.query(
    `UPDATE backfill_chunks SET state = 'done', lines = $3, rows_inserted = $4, rows_updated = $5, rows_deleted = $6,
       duplicates = $7, quarantined = $8, error = NULL, lease_owner = NULL, lease_until = NULL, updated_at = now()
     WHERE id = $1 AND lease_owner = $2 AND state = 'running'`,
    [chunkId, owner, result.lines, result.inserted, result.updated, result.deleted, result.duplicates, result.quarantined],
  );
  return rowCount === 1;
}

/**
 * Gives a chunk back after a failed attempt: pending again but not before `retryInMs` (its lease_until doubles as
 * "not before"; the owner stays on it meanwhile, so the pause still shows who will take it up), or failed for good
 * once out of attempts.
 */
export async function failChunk(
  db: Queryable,
  chunkId: number,
  owner: string,
  error: string,
  retry: { final: boolean; retryInMs: number },
): Promise<void> {
  await db.query(
    `UPDATE backfill_chunks SET state = $3::text, error = $4, lease_owner = CASE WHEN $3::text = 'pending' THEN lease_owner END,
       lease_until = CASE WHEN $3::text = 'pending' THEN now() + $5 * interval '1 millisecond' END, updated_at = now()
     WHERE id = $1 AND lease_owner = $2`,
    [chunkId, owner, retry.final ? 'failed' : 'pending', error, retry.retryInMs],
  );
}

/** Owners of running chunks of a backfill whose process is gone (their chunks are taken back at once). */
export async function goneChunkOwners(db: Queryable, backfillId: number): Promise<string[]> {
  const { rows } = await db.query<{ owner: string }>(
    `SELECT DISTINCT lease_owner AS owner FROM backfill_chunks
     WHERE backfill_id = $1 AND state = 'running' AND ${ownerGone('lease_owner')} ORDER BY 1`,
    [backfillId],
  );
  return rows.map((r) => r.owner);
}

/** Hands the chunks a stopping process holds back to the ledger, untouched, for another to take. */
export async function releaseChunks(db: Queryable, owner: string): Promise<void> {
  await db.query(
    `UPDATE backfill_chunks SET state = 'pending', attempts = greatest(attempts - 1, 0), lease_owner = NULL, lease_until = NULL,
       updated_at = now()
     WHERE lease_owner = $1 AND state = 'running'`,
    [owner],
  );
}

/** Hands one chunk back untouched (its attempt not spent): it was claimed but never sent. */
export async function releaseChunk(db: Queryable, chunkId: number, owner: string): Promise<void> {
  await db.query(
    `UPDATE backfill_chunks SET state = 'pending', attempts = greatest(attempts - 1, 0), lease_owner = NULL, lease_until = NULL,
       updated_at = now()
     WHERE id = $1 AND lease_owner = $2 AND state = 'running'`,
    [chunkId, owner],
  );
}

/** A chunk too big for KLK's timeout becomes two halves (the day ranges given), in one transaction. */
export async function splitChunk(
  tx: Queryable,
  chunk: Chunk,
  owner: string,
  halves: ReadonlyArray<{ dayFrom: string; dayTo: string }>,
): Promise<boolean> {
  const { rowCount } = await tx.query(
    `UPDATE backfill_chunks SET state = 'split', lease_owner = NULL, lease_until = NULL, updated_at = now()
     WHERE id = $1 AND lease_owner = $2 AND state = 'running'`,
    [chunk.id, owner],
  );
  if (rowCount !== 1) return false;
  await tx.query(
    `INSERT INTO backfill_chunks (backfill_id, parent_id, store_id, day_from, day_to)
     SELECT $1, $2, $3, f, t FROM unnest($4::date[], $5::date[]) AS h(f, t)`,
    [chunk.backfillId, chunk.id, chunk.storeId, halves.map((h) => h.dayFrom), halves.map((h) => h.dayTo)],
  );
  return true;
}

export interface LedgerTotals {
  total: number;
  done: number;
  failed: number;
  pending: number;
  running: number;
  storeDays: number;
  storeDaysDone: number;
  lines: number;
  inserted: number;
  updated: number;
  deleted: number;
  duplicates: number;
  quarantined: number;
}

/** Progress and results of a backfill, from the ledger alone (split parents are replaced by their halves). */
export async function ledgerTotals(db: Queryable, backfillId: number): Promise<LedgerTotals> {
  const { rows } = await db.query<LedgerTotals>(
    `SELECT count(*)::int AS total,
       count(*) FILTER (WHERE state = 'done')::int AS done,
       count(*) FILTER (WHERE state = 'failed')::int AS failed,
       count(*) FILTER (WHERE state = 'pending')::int AS pending,
       count(*) FILTER (WHERE state = 'running')::int AS running,
       coalesce(sum(day_to - day_from + 1), 0)::int AS "storeDays",
       coalesce(sum(day_to - day_from + 1) FILTER (WHERE state = 'done'), 0)::int AS "storeDaysDone",
       coalesce(sum(lines), 0)::bigint AS lines,
       coalesce(sum(rows_inserted), 0)::bigint AS inserted,
       coalesce(sum(rows_updated), 0)::bigint AS updated,
       coalesce(sum(rows_deleted), 0)::bigint AS deleted,
       coalesce(sum(duplicates), 0)::bigint AS duplicates,
       coalesce(sum(quarantined), 0)::bigint AS quarantined
     FROM backfill_chunks WHERE backfill_id = $1 AND state <> 'split'`,
    [backfillId],
  );
  return rows[0]!;
}

/**
 * Per store, what the chunks finished while run `runId` went (since it started) loaded, for the run history: a
 * resumed backfill's run counts only its own part. A store with a chunk out of attempts is `failed`.
 */
export async function runStoreResults(db: Queryable, backfillId: number, runId: number): Promise<Record<string, StoreResult>> {
  const { rows } = await db.query<{ store: string; requests: number; lines: number; inserted: number; updated: number; deleted: number; duplicates: number; quarantined: number; failed: boolean }>(
    `SELECT c.store_id AS store,
            count(*) FILTER (WHERE c.state = 'done')::int AS requests,
            coalesce(sum(c.lines) FILTER (WHERE c.state = 'done'), 0)::int AS lines,
            coalesce(sum(c.rows_inserted) FILTER (WHERE c.state = 'done'), 0)::int AS inserted,
            coalesce(sum(c.rows_updated) FILTER (WHERE c.state = 'done'), 0)::int AS updated,
            coalesce(sum(c.rows_deleted) FILTER (WHERE c.state = 'done'), 0)::int AS deleted,
            coalesce(sum(c.duplicates) FILTER (WHERE c.state = 'done'), 0)::int AS duplicates,
            coalesce(sum(c.quarantined) FILTER (WHERE c.state = 'done'), 0)::int AS quarantined,
            bool_or(c.state = 'failed') AS failed
     FROM backfill_chunks c JOIN etl_runs r ON r.id = $2
     WHERE c.backfill_id = $1 AND c.state IN ('done', 'failed') AND c.updated_at >= r.started_at
     GROUP BY c.store_id ORDER BY c.store_id`,
    [backfillId, runId],
  );
  return Object.fromEntries(
    rows.map((r) => [
      r.store,
      {
        ...emptyStoreResult(),
        status: r.failed ? 'failed' : 'success',
        requests: r.requests,
        extracted: r.lines,
        inserted: r.inserted,
        updated: r.updated,
        unchanged: r.lines - r.duplicates - r.quarantined - r.inserted - r.updated,
        deleted: r.deleted,
        duplicates: r.duplicates,
        quarantined: r.quarantined,
      } satisfies StoreResult,
    ]),
  );
}

/** A chunk still to do: its last error, and whether a live lease holds it (another process is running it now). */
export type RemainingChunk = Chunk & { error: string | null; held: boolean };

/**
 * The chunks a resume would take up (pending, running, failed), by store and day. A running chunk is held while its
 * lease is unexpired and its owner's process is not gone.
 */
export async function remainingChunks(db: Queryable, backfillId: number): Promise<RemainingChunk[]> {
  const { rows } = await db.query<RemainingChunk>(
    `SELECT ${CHUNK_COLUMNS}, error, (state = 'running' AND lease_until > now() AND NOT ${ownerGone('lease_owner')}) AS held
     FROM backfill_chunks WHERE backfill_id = $1 AND state IN ('pending', 'running', 'failed') ORDER BY store_id, day_from`,
    [backfillId],
  );
  return rows;
}

/** The chunks that ran out of attempts, with their last error, for the summary that lists them. */
export async function failedChunks(db: Queryable, backfillId: number): Promise<Array<Chunk & { error: string | null }>> {
  const { rows } = await db.query<Chunk & { error: string | null }>(
    `SELECT ${CHUNK_COLUMNS}, error FROM backfill_chunks WHERE backfill_id = $1 AND state = 'failed' ORDER BY store_id, day_from`,
    [backfillId],
  );
  return rows;
}

export async function finishBackfill(db: Queryable, backfillId: number, status: BackfillRow['status'], summary: unknown): Promise<void> {
  await db.query(`UPDATE backfills SET status = $2, summary = $3, finished_at = now() WHERE id = $1`, [
    backfillId,
    status,
    JSON.stringify(summary),
  ]);
}

export async function backfillStatus(db: Queryable, backfillId: number): Promise<BackfillStatus | null> {
  const { rows } = await db.query<{ status: BackfillStatus }>(`SELECT status FROM backfills WHERE id = $1`, [backfillId]);
  return rows[0]?.status ?? null;
}

/**
 * Running again until it is concluded (never shown failed or partial while it works; its old summary goes).
 * False when it was completed or cancelled meanwhile.
 */
export async function reopenBackfill(db: Queryable, backfillId: number): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE backfills SET status = 'running', finished_at = NULL, summary = NULL
     WHERE id = $1 AND status NOT IN ('complete', 'cancelled')`,
    [backfillId],
  );
  return rowCount === 1;
}

/**
 * Cancels a backfill for good: its pending chunks are never claimed again. One nobody works on ends now (its summary,
 * if it has one, says cancelled); a process working on it notices at its next claim and concludes it. False when it
 * had ended (complete or cancelled) meanwhile.
 */
export async function cancelBackfill(db: Queryable, backfillId: number, options: { workedOn: boolean }): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE backfills SET status = 'cancelled',
       finished_at = CASE WHEN $2::boolean THEN finished_at ELSE now() END,
       summary = CASE WHEN $2::boolean OR summary IS NULL THEN summary ELSE jsonb_set(summary, '{status}', '"cancelled"') END
     WHERE id = $1 AND status NOT IN ('complete', 'cancelled')`,
    [backfillId, options.workedOn],
  );
  return rowCount === 1;
}

/** `--resume` also gives the chunks that ran out of attempts another chance. */
export async function retryFailedChunks(db: Queryable, backfillId: number): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE backfill_chunks SET state = 'pending', attempts = 0, lease_until = NULL, updated_at = now()
     WHERE backfill_id = $1 AND state = 'failed'`,
    [backfillId],
  );
  return rowCount;
}
