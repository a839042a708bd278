import { randomInt, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Db, Queryable } from './types.ts';

/**
 * Whether the process behind a lease is alive, known at once and from any host. A process that takes leases (an
 * ETL run's stores, a backfill's chunks) holds a session-level advisory lock with a random key for as long as its
 * Db is open: on PostgreSQL on a connection of its own, so the lock goes when the process does (kill -9, a crash, a
 * machine lost: the server ends its session); on PGlite in its one session, which only one process can open. Its
 * lease owners name that key (`host:pid:L<key>:<tag>`), so an owner whose lock nobody holds is gone and its leases
 * are free now, not when they expire. An owner that names no key (written before this) waits out its lease.
 */

/** The first key of every liveness lock ('vent'), so they never meet another user's advisory locks. */
const NAMESPACE = 0x76656e74;
/** The key an owner names; also after the `etl:<run>:` of an ETL run's lease holder. */
const KEY_PATTERN = ':L([0-9]{1,10}):[^:]*$';

/** The keys of the liveness locks held now in this database (an uncorrelated subquery: read once per statement). */
const HELD_KEYS = `ARRAY(SELECT l.objid::bigint FROM pg_locks l WHERE l.locktype = 'advisory' AND l.classid = ${NAMESPACE}
  AND l.objsubid = 2 AND l.granted AND l.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database()))`;

/**
 * SQL that is true when the owner in `expr` (a chunk's lease owner, a store lease's holder) names a liveness lock
 * nobody holds: its process is gone. False for null and for an owner that names no lock.
 */
export function ownerGone(expr: string): string {
  const key = ownerKey(expr);
  return `(${key} IS NOT NULL AND ${key}::bigint <> ALL (${HELD_KEYS}))`;
}

/** SQL for the liveness key an owner in `expr` names (text), or null: two owners of one process name the same. */
export function ownerKey(expr: string): string {
  return `substring(${expr} from '${KEY_PATTERN}')`;
}

/** Of these owners, those whose process is gone. */
export async function goneOwners(db: Queryable, owners: readonly string[]): Promise<string[]> {
  if (owners.length === 0) return [];
  const { rows } = await db.query<{ owner: string }>(
    `SELECT DISTINCT o AS owner FROM unnest($1::text[]) AS o WHERE ${ownerGone('o')} ORDER BY 1`,
    [owners],
  );
  return rows.map((r) => r.owner);
}

export interface Liveness {
  readonly key: number;
  /** A new lease owner name of this process, alive while this lock is held. */
  owner(): string;
  /** Gives the lock up: from then on this process's owners are gone (what its death does). */
  release(): Promise<void>;
}

class KeyInUse extends Error {
  constructor() {
    super('otro proceso tiene el cerrojo de vida sorteado, tres veces seguidas');
  }
}

/**
 * Takes a new liveness lock on `db` for the process `identity` names (this one unless told: a test stands in for a
 * process of another host). A key another live process holds (one chance in billions) is drawn again.
 */
export async function holdLiveness(
  db: Db,
  identity = { host: hostname(), pid: process.pid },
  drawKey = () => randomInt(1, 2 ** 31),
): Promise<Liveness> {
  for (let attempt = 1; ; attempt++) {
    const key = drawKey();
    try {
      const kept = await db.keepSession({
        name: 'ventas-liveness',
        setup: async (session, again) => {
          // A lost connection's lock may outlive it on the server for a while: the new one waits for it.
          if (again) return void (await session.query(`SELECT pg_advisory_lock(${NAMESPACE}, ${key})`));
          const { rows } = await session.query<{ taken: boolean }>(
            `SELECT pg_try_advisory_lock(${NAMESPACE}, ${key}) AS taken`,
          );
          if (!rows[0]?.taken) throw new KeyInUse();
        },
        teardown: async (session) => void (await session.query(`SELECT pg_advisory_unlock(${NAMESPACE}, ${key})`)),
      });
      return {
        key,
        owner: () => `${identity.host}:${identity.pid}:L${key}:${randomUUID().slice(0, 8)}`,
        release: () => kept.release(),
      };
    } catch (error) {
      if (!(error instanceof KeyInUse) || attempt === 3) throw error;
    }
  }
}

const perDb = new WeakMap<Db, Promise<Liveness>>();

/** This process's liveness on `db`: the lock is taken on first use and held until the Db is closed. */
export function liveness(db: Db): Promise<Liveness> {
  let held = perDb.get(db);
  if (!held) {
    held = holdLiveness(db);
    perDb.set(db, held);
    // A failed first try is not remembered: the next caller tries again.
    held.catch(() => perDb.delete(db));
  }
  return held;
}

/** `host:pid` of an owner, for messages. */
export function ownerProcess(owner: string): string {
  return owner.split(':').slice(0, 2).join(':');
}
