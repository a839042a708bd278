import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import type { KlkClient } from '../klk/index.ts';
import { databaseError, guard } from '../db/postgres.ts';

/**
 * The per-KLK limit held across every worker on every machine: slot i of a KLK is a session advisory lock in
 * PostgreSQL, held on a connection of its own while a request (with its retries) is in flight. When a worker dies
 * its connections close and PostgreSQL frees its slots at once; when its machine vanishes, the server's TCP
 * keepalive (set short on these connections) frees them within about half a minute.
 */
export interface KlkSlots {
  /** Waits for one of `limit` slots; resolves to its release. */
  acquire(limit: number, signal?: AbortSignal): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** Between tries while every slot is taken (jittered, so waiting workers do not poll in step). */
const RETRY_MS = 100;

/** A 32-bit key per KLK (its base URL): advisory locks are (key, slot) pairs, apart from any one-key lock. */
function klkLockKey(baseUrl: string): number {
  return createHash('sha256').update(`ventas:klk:${baseUrl}`).digest().readInt32BE(0);
}

export function createKlkSlots(options: { databaseUrl: string; baseUrl: string; connections: number }): KlkSlots {
  const key = klkLockKey(options.baseUrl);
  const pool = new pg.Pool({
    connectionString: options.databaseUrl,
    max: options.connections,
    application_name: 'ventas-klk-slots',
    options: '-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3',
  });
  pool.on('error', () => undefined);

  async function tryLock(client: pg.PoolClient, limit: number): Promise<number | null> {
    const first = Math.floor(Math.random() * limit);
    for (let i = 0; i < limit; i++) {
      const slot = (first + i) % limit;
      const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [key, slot]);
      if (rows[0]!.ok) return slot;
    }
    return null;
  }

  return {
    async acquire(limit, signal) {
      // A database that cannot be reached is said as the Db says it: the chunk then goes back untouched, KLK not blamed.
      const client = await pool.connect().catch((error: unknown) => {
        throw databaseError(error, options.databaseUrl);
      });
      // Held for as long as the slot is: a server that goes away meanwhile must not end the worker.
      const unguard = guard(client);
      try {
        for (;;) {
          signal?.throwIfAborted();
          const slot = await tryLock(client, limit);
          if (slot !== null) {
            return async () => {
              try {
                await client.query('SELECT pg_advisory_unlock($1, $2)', [key, slot]);
                unguard();
                client.release();
              } catch (error) {
                // Dropping the connection frees the lock anyway.
                unguard();
                client.release(error as Error);
              }
            };
          }
          await delay(RETRY_MS / 2 + Math.random() * RETRY_MS, undefined, { signal });
        }
      } catch (error) {
        // Aborted, or the connection failed: it holds no slot of ours; dropped to be safe either way.
        unguard();
        client.release(true);
        throw databaseError(error, options.databaseUrl);
      }
    },
    close: () => pool.end(),
  };
}

/** A KLK client whose every request first takes one of `limit` slots shared by all workers. */
export function withSharedLimit(klk: KlkClient, slots: KlkSlots, limit: number): KlkClient {
  return {
    async fetchVentas(request, newCollector, options) {
      const release = await slots.acquire(limit, options?.signal);
      try {
        return await klk.fetchVentas(request, newCollector, options);
      } finally {
        await release();
      }
    },
    stats: () => klk.stats(),
  };
}
