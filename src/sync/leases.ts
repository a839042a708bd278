import { ownerGone } from '../db/liveness.ts';
import type { Queryable } from '../db/types.ts';

/**
 * Per-store leases: a run holds its stores while it works on them and renews the leases; if it dies another run may
 * take the store at once (its holder's process is gone, see db/liveness.ts), or once the lease expires. A lease, not
 * a "running" flag, so no orphan clean-up is ever needed. The one module whose SQL names `store_leases`.
 */
export async function acquireLeases(
  db: Queryable,
  storeIds: readonly string[],
  holder: string,
  ttlMs: number,
): Promise<string[]> {
  if (storeIds.length === 0) return [];
  const { rows } = await db.query<{ store_id: string }>(
    `INSERT INTO store_leases AS l (store_id, holder, acquired_at, expires_at)
     SELECT s, $2, now(), now() + $3 * interval '1 millisecond' FROM unnest($1::text[]) AS s
     ON CONFLICT (store_id) DO UPDATE SET holder = EXCLUDED.holder, acquired_at = now(), expires_at = EXCLUDED.expires_at
     WHERE l.expires_at < now() OR l.holder = EXCLUDED.holder OR ${ownerGone('l.holder')}
     RETURNING store_id`,
    [storeIds, holder, ttlMs],
  );
  return rows.map((r) => r.store_id);
}

export async function renewLeases(
  db: Queryable,
  storeIds: readonly string[],
  holder: string,
  ttlMs: number,
): Promise<void> {
  if (storeIds.length === 0) return;
  await db.query(
    `UPDATE store_leases SET expires_at = now() + $3 * interval '1 millisecond'
     WHERE store_id = ANY($1::text[]) AND holder = $2`,
    [storeIds, holder, ttlMs],
  );
}

export async function releaseLeases(db: Queryable, storeIds: readonly string[], holder: string): Promise<void> {
  if (storeIds.length === 0) return;
  await db.query(`DELETE FROM store_leases WHERE store_id = ANY($1::text[]) AND holder = $2`, [storeIds, holder]);
}

/**
 * Of these holder prefixes (a run's, see leaseHolderPrefix), those under which an unexpired lease is held by a
 * process that is not gone: someone is working under that name now.
 */
export async function liveHolderPrefixes(db: Queryable, prefixes: readonly string[]): Promise<string[]> {
  if (prefixes.length === 0) return [];
  const { rows } = await db.query<{ prefix: string }>(
    `SELECT p AS prefix FROM unnest($1::text[]) AS p
     WHERE EXISTS (SELECT 1 FROM store_leases l WHERE starts_with(l.holder, p) AND l.expires_at > now() AND NOT ${ownerGone('l.holder')})`,
    [prefixes],
  );
  return rows.map((r) => r.prefix);
}
