import { emptyStoreResult, type StoreResult } from '../sync/runs.ts';
import { ownerGone, ownerKey } from '../db/liveness.ts';
import type { Queryable } from '../db/types.ts';

/**
 * The chunk ledger of a backfill: one row per (store, whole-day range). A chunk is claimed with a lease, and marked
 * done in the same transaction that loads its rows, so a process killed at any moment leaves each chunk either
 * done (rows committed) or not (nothing committed): `--resume` finishes exactly what is left.
 *
 * The one module whose SQL names `backfills` and `backfill_chunks` (a claim checks its backfill, the history sums a
 * backfill's chunks): one function per statement, the handle first.
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
  /** Posted by the daemon's heal (one chunk per store-day), not by a person. */
  origin?: 'heal';
  /** Tries per chunk, when not the executor's own (the heal's: one; the next cycle is its retry). */
  maxAttempts?: number;
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

/** Backfills not complete nor cancelled, newest first (which of them can be resumed depends on who works on them). */
export async function unfinishedBackfills(db: Queryable): Promise<BackfillRow[]> {
  const { rows } = await db.query<BackfillRow>(
    `SELECT id, status, params, summary, created_at AS "createdAt", finished_at AS "finishedAt" FROM backfills
     WHERE status NOT IN ('complete', 'cancelled') ORDER BY id DESC`,
  );
  return rows;
}

/**
 * Locks a backfill's row for its conclusion (in the caller's transaction): its status, params and summary, and the
 * seconds since `since` (its run's start, ISO text) or, without one, since it was created. Null when there is none.
 */
export async function lockBackfill(
  tx: Queryable,
  backfillId: number,
  since: string | null,
): Promise<{ status: BackfillStatus; params: BackfillParams; summary: unknown; seconds: number } | null> {
  const { rows } = await tx.query<{
    status: BackfillStatus;
    params: BackfillParams;
    summary: unknown;
    seconds: number;
  }>(
    `SELECT status, params, summary, extract(epoch FROM now() - coalesce($2::timestamptz, created_at))::float8 AS seconds
     FROM backfills WHERE id = $1 FOR UPDATE`,
    [backfillId, since],
  );
  return rows[0] ?? null;
}

/**
 * The newest finished (complete, partial or failed) backfill whose window overlaps `from..to` and that covered at
 * least one of `storeIds`, as stored.
 */
export async function latestFinishedBackfill(
  db: Queryable,
  selection: { from: string; to: string; storeIds: readonly string[] },
): Promise<{
  id: number;
  status: 'complete' | 'partial' | 'failed';
  params: unknown;
  summary: unknown;
  finishedAt: Date;
} | null> {
  const { rows } = await db.query<{
    id: number;
    status: 'complete' | 'partial' | 'failed';
    params: unknown;
    summary: unknown;
    finishedAt: Date;
  }>(
    `SELECT id, status, params, summary, finished_at AS "finishedAt"
       FROM backfills
      WHERE finished_at IS NOT NULL AND status IN ('complete', 'partial', 'failed')
        AND params->>'from' <= $2 AND params->>'to' >= $1
        AND params->'stores' ?| $3::text[]
      ORDER BY finished_at DESC, id DESC
      LIMIT 1`,
    [selection.from, selection.to, selection.storeIds],
  );
  return rows[0] ?? null;
}

/** A backfill for the history, with the sums of its chunks. */
export interface BackfillListing {
  id: number;
  status: BackfillStatus;
  startedAt: Date;
  finishedAt: Date | null;
  params: BackfillParams;
  storeDays: number;
  lines: number;
  rowsInserted: number;
  rowsUpdated: number;
}

/** The latest `limit` backfills, newest first. */
export async function listBackfills(db: Queryable, limit: number): Promise<BackfillListing[]> {
  const { rows } = await db.query<BackfillListing>(
    `SELECT b.id, b.status, b.created_at AS "startedAt", b.finished_at AS "finishedAt", b.params,
       coalesce(sum(c.day_to - c.day_from + 1) FILTER (WHERE c.state <> 'split'), 0)::int AS "storeDays",
       coalesce(sum(c.lines), 0)::bigint AS lines,
       coalesce(sum(c.rows_inserted), 0)::bigint AS "rowsInserted",
       coalesce(sum(c.rows_updated), 0)::bigint AS "rowsUpdated"
     FROM backfills b LEFT JOIN backfill_chunks c ON c.backfill_id = b.id
     GROUP BY b.id ORDER BY b.id DESC LIMIT $1`,
    [limit],
  );
  return rows;
}

/**
 * Per backfill: `owners`, the lease owners of its chunks under an unexpired lease (running, or pausing before a
 * retry) whose process is not gone (db/liveness.ts, on any host); `starting` while it runs, was created less than
 * `startingMs` ago and none of its chunks has been claimed yet.
 */
export async function backfillLeaseHolders(
  db: Queryable,
  ids: readonly number[],
  startingMs: number,
): Promise<Array<{ id: number; starting: boolean; owners: string[] }>> {
  if (ids.length === 0) return [];
  const { rows } = await db.query<{ id: number; starting: boolean; owners: string[] }>(
    `SELECT b.id,
       (b.status = 'running' AND b.created_at > now() - $2 * interval '1 millisecond'
         AND NOT EXISTS (SELECT 1 FROM backfill_chunks c WHERE c.backfill_id = b.id AND (c.attempts > 0 OR c.state <> 'pending'))) AS starting,
       coalesce((SELECT array_agg(DISTINCT c.lease_owner) FROM backfill_chunks c
                 WHERE c.backfill_id = b.id AND c.lease_owner IS NOT NULL AND c.lease_until > now()
                   AND NOT ${ownerGone('c.lease_owner')}), '{}') AS owners
     FROM backfills b WHERE b.id = ANY($1::bigint[])`,
    [ids, startingMs],
  );
  return rows;
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

/**
 * How soon a job whose chunk runs under a live worker's lease comes back to look again: that worker may die long
 * before its lease ends, and its chunk is then taken at once (the lease is only the last resort).
 */
const HOLDER_CHECK_SECONDS = 5;

/** Where a chunk stands, for the queue job that names it. */
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

/**
 * The store-days of the daemon's heal backfills still running whose chunk is pending or running: posted by an earlier
 * cycle and not yet run (whoever is free takes them), so not to be posted again.
 */
export async function healStoreDaysInFlight(db: Queryable): Promise<Array<{ store: string; day: string }>> {
  const { rows } = await db.query<{ store: string; day: string }>(
    `SELECT DISTINCT c.store_id AS store, to_char(d, 'YYYY-MM-DD') AS day
     FROM backfill_chunks c JOIN backfills b ON b.id = c.backfill_id,
       generate_series(c.day_from, c.day_to, interval '1 day') AS d
     WHERE b.status = 'running' AND b.params->>'origin' = 'heal' AND c.state IN ('pending', 'running')`,
  );
  return rows;
}

/** A chunk of a backfill as its poster follows it: where it stands, its tries, and the rows it loaded. */
export interface ChunkProgress {
  storeId: string;
  dayFrom: string;
  dayTo: string;
  state: ChunkState;
  attempts: number;
  rows: number;
}

/** The chunks of a backfill (split parents replaced by their halves), by store and day. */
export async function chunkProgress(db: Queryable, backfillId: number): Promise<ChunkProgress[]> {
  const { rows } = await db.query<ChunkProgress>(
    `SELECT store_id AS "storeId", to_char(day_from, 'YYYY-MM-DD') AS "dayFrom", to_char(day_to, 'YYYY-MM-DD') AS "dayTo",
       state, attempts, (coalesce(rows_inserted, 0) + coalesce(rows_updated, 0))::int AS rows
     FROM backfill_chunks WHERE backfill_id = $1 AND state <> 'split' ORDER BY store_id, day_from`,
    [backfillId],
  );
  return rows;
}

/** The chunks of a backfill still to be run: what its queue jobs are for. */
export async function unfinishedChunkIds(db: Queryable, backfillId: number): Promise<number[]> {
  const { rows } = await db.query<{ id: number }>(
    `SELECT id FROM backfill_chunks WHERE backfill_id = $1 AND state IN ('pending', 'running') ORDER BY id`,
    [backfillId],
  );
  return rows.map((r) => r.id);
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
  result: {
    lines: number;
    inserted: number;
    updated: number;
    deleted: number;
    duplicates: number;
    quarantined: number;
  },
): Promise<boolean> {
  const { rowCount } = await tx.query(
    `UPDATE backfill_chunks SET state = 'done', lines = $3, rows_inserted = $4, rows_updated = $5, rows_deleted = $6,
       duplicates = $7, quarantined = $8, error = NULL, lease_owner = NULL, lease_until = NULL, updated_at = now()
     WHERE id = $1 AND lease_owner = $2 AND state = 'running'`,
    [
      chunkId,
      owner,
      result.lines,
      result.inserted,
      result.updated,
      result.deleted,
      result.duplicates,
      result.quarantined,
    ],
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

/** The chunks of one store of a backfill, counted by state. */
export interface StoreLedger {
  store: string;
  total: number;
  done: number;
  failed: number;
  pending: number;
  running: number;
  storeDays: number;
  storeDaysDone: number;
  lines: number;
  rowsInserted: number;
  rowsUpdated: number;
}

/** ledgerTotals per store, by store id (split parents are replaced by their halves). */
export async function ledgerTotalsByStore(db: Queryable, backfillId: number): Promise<StoreLedger[]> {
  const { rows } = await db.query<StoreLedger>(
    `SELECT store_id AS store,
       count(*)::int AS total,
       count(*) FILTER (WHERE state = 'done')::int AS done,
       count(*) FILTER (WHERE state = 'failed')::int AS failed,
       count(*) FILTER (WHERE state = 'pending')::int AS pending,
       count(*) FILTER (WHERE state = 'running')::int AS running,
       sum(day_to - day_from + 1)::int AS "storeDays",
       coalesce(sum(day_to - day_from + 1) FILTER (WHERE state = 'done'), 0)::int AS "storeDaysDone",
       coalesce(sum(lines), 0)::bigint AS lines,
       coalesce(sum(rows_inserted), 0)::bigint AS "rowsInserted",
       coalesce(sum(rows_updated), 0)::bigint AS "rowsUpdated"
     FROM backfill_chunks WHERE backfill_id = $1 AND state <> 'split' GROUP BY store_id ORDER BY store_id`,
    [backfillId],
  );
  return rows;
}

/**
 * Per store, what the chunks finished since `since` (the start of a run of the backfill, ISO text; null: none) loaded,
 * for the run history: a resumed backfill's run counts only its own part. A store with a chunk out of attempts is
 * `failed`.
 */
export async function runStoreResults(
  db: Queryable,
  backfillId: number,
  since: string | null,
): Promise<Record<string, StoreResult>> {
  const { rows } = await db.query<{
    store: string;
    requests: number;
    lines: number;
    inserted: number;
    updated: number;
    deleted: number;
    duplicates: number;
    quarantined: number;
    failed: boolean;
  }>(
    `SELECT store_id AS store,
            count(*) FILTER (WHERE state = 'done')::int AS requests,
            coalesce(sum(lines) FILTER (WHERE state = 'done'), 0)::int AS lines,
            coalesce(sum(rows_inserted) FILTER (WHERE state = 'done'), 0)::int AS inserted,
            coalesce(sum(rows_updated) FILTER (WHERE state = 'done'), 0)::int AS updated,
            coalesce(sum(rows_deleted) FILTER (WHERE state = 'done'), 0)::int AS deleted,
            coalesce(sum(duplicates) FILTER (WHERE state = 'done'), 0)::int AS duplicates,
            coalesce(sum(quarantined) FILTER (WHERE state = 'done'), 0)::int AS quarantined,
            bool_or(state = 'failed') AS failed
     FROM backfill_chunks
     WHERE backfill_id = $1 AND state IN ('done', 'failed') AND updated_at >= $2::timestamptz
     GROUP BY store_id ORDER BY store_id`,
    [backfillId, since],
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
export function failedChunks(db: Queryable, backfillId: number): Promise<Array<Chunk & { error: string | null }>> {
  return failedChunksOf(db, [backfillId]);
}

/** failedChunks of several backfills at once, by backfill, store and day. */
export async function failedChunksOf(
  db: Queryable,
  backfillIds: readonly number[],
): Promise<Array<Chunk & { error: string | null }>> {
  if (backfillIds.length === 0) return [];
  const { rows } = await db.query<Chunk & { error: string | null }>(
    `SELECT ${CHUNK_COLUMNS}, error FROM backfill_chunks WHERE backfill_id = ANY($1::bigint[]) AND state = 'failed'
     ORDER BY backfill_id, store_id, day_from`,
    [backfillIds],
  );
  return rows;
}

export async function finishBackfill(
  db: Queryable,
  backfillId: number,
  status: BackfillRow['status'],
  summary: unknown,
): Promise<void> {
  await db.query(`UPDATE backfills SET status = $2, summary = $3, finished_at = now() WHERE id = $1`, [
    backfillId,
    status,
    JSON.stringify(summary),
  ]);
}

export async function backfillStatus(db: Queryable, backfillId: number): Promise<BackfillStatus | null> {
  const { rows } = await db.query<{ status: BackfillStatus }>(`SELECT status FROM backfills WHERE id = $1`, [
    backfillId,
  ]);
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
export async function cancelBackfill(
  db: Queryable,
  backfillId: number,
  options: { workedOn: boolean },
): Promise<boolean> {
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
