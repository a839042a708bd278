import pg from 'pg';
import PgBoss from 'pg-boss';
import type { Queryable } from '../db/types.ts';
import { databaseError, guard, isUnreachable } from '../db/postgres.ts';
import type { Logger } from '../shared/logger.ts';

/**
 * The job queue of the distributed backfill, on pg-boss 10 in the same PostgreSQL (its own schema). A job only says
 * "run chunk N of backfill B": the ledger stays the source of truth, so a job that comes back twice, late or after
 * its chunk was done by someone else is harmless.
 *
 * How a killed worker's chunk gets to another one within seconds: pg-boss fails an active job once it is older
 * than its expiration (checked by the maintenance any worker runs) and hands it out again; whoever takes it claims
 * the chunk in the ledger (claimChunkById, the ledger's one rule) when its owner's process is gone (its liveness
 * lock went with it, see db/liveness.ts) or its lease ran out, and otherwise puts the job back to look again a few
 * seconds later (HOLDER_CHECK_SECONDS). A live worker holds its lock and renews its leases, so its chunk is never
 * taken from it; the lease is what frees the chunk of a worker that hangs without dying.
 */
const CHUNK_QUEUE = 'ventas-backfill-chunk';
const SCHEMA = 'ventas_queue';

/**
 * How long a job stays with the worker that fetched it before pg-boss hands it out again. pg-boss 10 fixes it when
 * the job is sent and cannot renew it, so it is short and the ledger decides: a dead worker's chunk is taken over
 * once its job comes back (this plus up to MAINTENANCE_SECONDS after it was fetched), and a chunk that runs longer
 * than this costs a look at the ledger every few seconds, each putting one job back.
 */
const JOB_EXPIRY_SECONDS = 5;
/** How often expired jobs are looked for (by one worker at a time; pg-boss takes care of that). */
const MAINTENANCE_SECONDS = 2;
/** A job expiring again and again means workers keep dying on it; it stays queued, the ledger decides. */
const RETRY_LIMIT = 1_000_000;
/** Jobs not started within this time are archived by pg-boss: generous, a queued backfill may wait for workers. */
const RETENTION_MINUTES = 60 * 24 * 30;
/** Serialises installing and upgrading the queue's schema between workers that start together. */
const INSTALL_LOCK = 7_414_202;

export interface ChunkJobData {
  backfillId: number;
  chunkId: number;
  /** The run history row the loads are recorded under. */
  runId: number | null;
}

export interface ChunkJob {
  id: string;
  data: ChunkJobData;
}

export interface ChunkQueue {
  /**
   * Puts chunks on the queue, one job per chunk: a chunk that already has a job waiting gets no second one. In the
   * caller's transaction, so the jobs exist exactly when the ledger rows they point to do.
   */
  enqueue(tx: Queryable, jobs: readonly ChunkJobData[], options?: { delaySeconds?: number }): Promise<void>;
  /** The next job due, now active for this worker; null when none is. */
  fetch(): Promise<ChunkJob | null>;
  /** Marks a job done, in the caller's transaction (a job pg-boss already handed to someone else is left alone). */
  complete(tx: Queryable, jobId: string): Promise<void>;
  stop(): Promise<void>;
}

/** pg-boss runs a job's insert or completion in the caller's transaction. */
function asBossDb(db: Queryable): PgBoss.Db {
  return { executeSql: (text, values) => db.query(text, values) };
}

/** Runs `fn` holding a session advisory lock on its own connection. */
async function withInstallLock<T>(databaseUrl: string, fn: () => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'ventas-queue-install' });
  guard(client);
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [INSTALL_LOCK]);
    return await fn();
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Opens the queue, installing pg-boss's schema and the chunk queue on first use. `supervise`: this process takes
 * its turn at pg-boss's maintenance (expiring the jobs of dead workers); workers do, the enqueuer need not.
 */
export async function openChunkQueue(options: {
  databaseUrl: string;
  supervise: boolean;
  logger: Logger;
}): Promise<ChunkQueue> {
  const boss = new PgBoss({
    // Its own small pool: its maintenance scripts (BEGIN ... COMMIT in one string) leave a connection in an aborted
    // transaction when they fail, which must never be one our loads then use.
    connectionString: options.databaseUrl,
    max: 3,
    application_name: 'ventas-queue',
    schema: SCHEMA,
    supervise: options.supervise,
    schedule: false,
    migrate: true,
    maintenanceIntervalSeconds: MAINTENANCE_SECONDS,
  });
  boss.on('error', (error) => {
    // A database that went away fails every maintenance round: the worker says so once, when it waits for it.
    if (isUnreachable(error))
      options.logger.debug({ err: error.message }, 'cola de trabajo: mantenimiento sin base de datos');
    else options.logger.warn({ err: error.message }, 'cola de trabajo: error de mantenimiento');
  });
  // Two processes creating the schema at once would both try; the loser's connection would be left in an aborted
  // transaction by pg-boss's multi-statement script.
  await withInstallLock(options.databaseUrl, async () => {
    await boss.start();
    await boss.createQueue(CHUNK_QUEUE, {
      name: CHUNK_QUEUE,
      // At most one waiting job per chunk (singleton key = chunk id).
      policy: 'short',
      retryLimit: RETRY_LIMIT,
      retryDelay: 0,
      expireInSeconds: JOB_EXPIRY_SECONDS,
      retentionMinutes: RETENTION_MINUTES,
    });
  });

  return {
    async enqueue(tx, jobs, { delaySeconds = 0 } = {}) {
      if (jobs.length === 0) return;
      await boss.insert(
        jobs.map((data) => ({
          name: CHUNK_QUEUE,
          data,
          singletonKey: String(data.chunkId),
          // Seconds from now on the database's clock, not this machine's.
          startAfter: delaySeconds > 0 ? String(Math.ceil(delaySeconds)) : undefined,
        })),
        { db: asBossDb(tx) },
      );
    },
    async fetch() {
      // pg-boss answers "no job" when its query fails: a database that is gone must not pass for an empty queue.
      let failure: unknown;
      const bossDb = boss.getDb();
      const db: PgBoss.Db = {
        executeSql: (text, values) =>
          bossDb.executeSql(text, values).catch((error: unknown) => {
            failure = error;
            throw error;
          }),
      };
      const [job] = await boss.fetch<ChunkJobData>(CHUNK_QUEUE, { batchSize: 1, db });
      if (failure !== undefined && isUnreachable(failure)) throw databaseError(failure, options.databaseUrl);
      return job ? { id: job.id, data: job.data } : null;
    },
    async complete(tx, jobId) {
      // pg-boss 10 takes (name, id, output, options), whatever its typings say.
      await boss.complete(CHUNK_QUEUE, jobId, {}, { db: asBossDb(tx) });
    },
    async stop() {
      // Jobs still active expire and go to another worker.
      await boss.stop({ graceful: false, wait: true });
    },
  };
}
