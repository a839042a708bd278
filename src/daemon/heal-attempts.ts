import type { Queryable } from '../db/types.ts';
import { unnest } from '../db/unnest.ts';
import type { IsoDate } from '../shared/dates.ts';

/**
 * How often the daemon's heal has tried each store-day still incomplete, the one module whose SQL names
 * `heal_attempts`: after `heal.maxAttempts` a store-day is given up (an incident says so) until it is complete.
 */

export interface StoreDay {
  store: string;
  day: IsoDate;
}

const key = (s: StoreDay) => `${s.store}\u0000${s.day}`;

/** Attempts per store-day of the window (`store\0day` -> attempts); absent: never tried. */
export async function readHealAttempts(
  db: Queryable,
  window: { from: IsoDate; to: IsoDate },
): Promise<Map<string, number>> {
  const { rows } = await db.query<{ store_id: string; day: string; attempts: number }>(
    `SELECT store_id, to_char(day, 'YYYY-MM-DD') AS day, attempts FROM heal_attempts
     WHERE day BETWEEN $1::date AND $2::date`,
    [window.from, window.to],
  );
  return new Map(rows.map((r) => [key({ store: r.store_id, day: r.day }), r.attempts]));
}

export function attemptsOf(attempts: ReadonlyMap<string, number>, storeDay: StoreDay): number {
  return attempts.get(key(storeDay)) ?? 0;
}

/** One more attempt on each of these store-days, at `at` (the ventas clock). */
export async function recordHealAttempts(db: Queryable, storeDays: readonly StoreDay[], at: Date): Promise<void> {
  if (storeDays.length === 0) return;
  const source = unnest(
    [
      ['store_id', 'text'],
      ['day', 'date'],
    ],
    [storeDays.map((s) => s.store), storeDays.map((s) => s.day)],
  );
  const atParam = source.params.length + 1;
  await db.query(
    `INSERT INTO heal_attempts AS h (store_id, day, attempts, last_attempt_at)
     SELECT store_id, day, 1, $${atParam}::timestamptz FROM (${source.sql}) s
     ON CONFLICT (store_id, day) DO UPDATE SET attempts = h.attempts + 1, last_attempt_at = EXCLUDED.last_attempt_at`,
    [...source.params, at],
  );
}

/** Forgets the attempts of the window's store-days that are no longer waiting (complete, or no longer expected). */
export async function clearHealAttempts(
  db: Queryable,
  window: { from: IsoDate; to: IsoDate },
  waiting: readonly StoreDay[],
): Promise<void> {
  const source = unnest(
    [
      ['store_id', 'text'],
      ['day', 'date'],
    ],
    [waiting.map((s) => s.store), waiting.map((s) => s.day)],
    3,
  );
  await db.query(
    `DELETE FROM heal_attempts h WHERE h.day BETWEEN $1::date AND $2::date
       AND NOT EXISTS (SELECT 1 FROM (${source.sql}) w WHERE w.store_id = h.store_id AND w.day = h.day)`,
    [window.from, window.to, ...source.params],
  );
}

/** The heal's attempts on one store-day and when it last tried it (the ventas clock), or null when never tried. */
export async function readHealAttempt(
  db: Queryable,
  storeDay: StoreDay,
): Promise<{ attempts: number; lastAttemptAt: Date } | null> {
  const { rows } = await db.query<{ attempts: number; last_attempt_at: Date }>(
    `SELECT attempts, last_attempt_at FROM heal_attempts WHERE store_id = $1 AND day = $2::date`,
    [storeDay.store, storeDay.day],
  );
  const row = rows[0];
  return row ? { attempts: row.attempts, lastAttemptAt: new Date(row.last_attempt_at) } : null;
}
