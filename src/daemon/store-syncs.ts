import type { Queryable } from '../db/types.ts';
import { unnest } from '../db/unnest.ts';

/**
 * Each store's own sync, the one module whose SQL names `daemon_store_syncs`: its last success, and since when (and
 * why) it fails, from the sync tick's per-store results. A store whose requests fail while the rest of its zone
 * syncs goes stale on its own; one that syncs does not. Times are the ventas clock's.
 */

export interface StoreSync {
  store: string;
  /** The end of its last successful sync; null: never. */
  lastSuccessAt: Date | null;
  /** The start of its first failed sync since its last success; null while it syncs. */
  failingSince: Date | null;
  /** The last failure's reason, while it fails. */
  error: string | null;
}

/** One sync's result per store: ok (at `at`), or failed with why (its run started at `startedAt`). */
export interface StoreSyncResult {
  store: string;
  ok: boolean;
  error?: string | null;
}

export async function recordStoreSyncs(
  db: Queryable,
  results: readonly StoreSyncResult[],
  times: { startedAt: Date; at: Date },
): Promise<void> {
  if (results.length === 0) return;
  const source = unnest(
    [
      ['store_id', 'text'],
      ['ok', 'boolean'],
      ['error', 'text'],
    ],
    [results.map((r) => r.store), results.map((r) => r.ok), results.map((r) => (r.ok ? null : (r.error ?? null)))],
    3,
  );
  await db.query(
    `INSERT INTO daemon_store_syncs AS s (store_id, last_success_at, failing_since, error)
     SELECT store_id, CASE WHEN ok THEN $2::timestamptz END, CASE WHEN NOT ok THEN $1::timestamptz END, error
     FROM (${source.sql}) r
     ON CONFLICT (store_id) DO UPDATE SET
       last_success_at = coalesce(EXCLUDED.last_success_at, s.last_success_at),
       failing_since = CASE WHEN EXCLUDED.last_success_at IS NOT NULL THEN NULL
                            ELSE coalesce(s.failing_since, EXCLUDED.failing_since) END,
       error = EXCLUDED.error`,
    [times.startedAt, times.at, ...source.params],
  );
}

export async function readStoreSyncs(db: Queryable): Promise<StoreSync[]> {
  const { rows } = await db.query<{
    store_id: string;
    last_success_at: Date | null;
    failing_since: Date | null;
    error: string | null;
  }>(`SELECT store_id, last_success_at, failing_since, error FROM daemon_store_syncs ORDER BY store_id`);
  return rows.map((r) => ({
    store: r.store_id,
    lastSuccessAt: r.last_success_at,
    failingSince: r.failing_since,
    error: r.error,
  }));
}
