import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancelBackfill, unfinishedBackfills } from '../backfill/ledger.ts';
import { parseConfig } from '../catalogue/config.ts';
import { DEFAULT_STORES } from '../catalogue/stores.ts';
import { runCycle } from '../daemon/cycle.ts';
import type { Db } from '../db/types.ts';
import { openDb } from '../db/index.ts';
import { openBackfillKlk, openKlk } from '../klk/open.ts';
import { silentLogger } from '../shared/logger.ts';
import { startSimulator, type RunningSimulator } from '../sim/index.ts';
import { createPostgresDatabase, describeEachBackend } from '../../test/backends.ts';
import { createHealQueue } from './heal.ts';
import { createKlkSlots } from './klk-slots.ts';
import { openChunkQueue, type ChunkJobData, type ChunkQueue } from './queue.ts';
import { runWorker } from './worker.ts';

const STORES = DEFAULT_STORES.slice(0, 2);
/** Caracas 10:30: the lookback's days are all past their grace. */
const NOW = new Date('2026-01-15T14:30:00Z');

/** A queue that only keeps what was put on it: nobody runs these chunks, so they stay in the ledger. */
function keptQueue(): ChunkQueue & { jobs: ChunkJobData[] } {
  const jobs: ChunkJobData[] = [];
  return {
    jobs,
    enqueue: async (_tx, more) => void jobs.push(...more),
    fetch: async () => null,
    complete: async () => undefined,
    stop: async () => undefined,
  };
}

describeEachBackend('the queued heal', (open) => {
  let sim: RunningSimulator;
  let db: Db;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 5, scale: 0.003 });
    db = await open();
  });
  afterAll(async () => {
    await db?.close();
    await sim?.close();
  });

  it('posts each store-day once, one chunk each; while its chunk waits no cycle posts it again nor counts a try', async () => {
    const config = parseConfig({
      stores: STORES,
      klk: { attempts: 1 },
      heal: { lookbackDays: 4, maxRequestsPerHour: 3 },
    });
    const queue = keptQueue();
    const cycle = () =>
      runCycle({
        db,
        config,
        openKlk: () => openKlk(config, { baseUrl: sim.url, concurrency: 2, logger: silentLogger }),
        now: () => NOW,
        logger: silentLogger,
        // Followed for no time at all: what it posts is left to whoever is free.
        healQueue: createHealQueue({ db, config, queue, waitMs: 0 }),
      });

    // Backlog 01-11..01-13 for two stores (the recovery does 01-14): the three newest are posted.
    const first = await cycle();
    expect(first.heal).toMatchObject({ backlogBefore: 6, attempted: 3, requests: 0, rows: 0, status: 'running' });
    expect(first.heal.backlogAfter).toBe(6);
    const [heal] = await unfinishedBackfills(db);
    expect(heal!.params).toMatchObject({ origin: 'heal', from: '2026-01-12', to: '2026-01-13' });
    expect(queue.jobs).toHaveLength(3);
    expect(new Set(queue.jobs.map((j) => j.backfillId))).toEqual(new Set([heal!.id]));
    // Not tried yet: no attempt is spent on them.
    const { rows: attempts } = await db.query('SELECT * FROM heal_attempts');
    expect(attempts).toEqual([]);

    // The next cycle posts the other three, not those still waiting.
    const second = await cycle();
    expect(second.heal).toMatchObject({ backlogBefore: 6, attempted: 3, status: 'running' });
    expect(queue.jobs).toHaveLength(6);
    const { rows: posted } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM backfill_chunks GROUP BY store_id, day_from HAVING count(*) > 1`,
    );
    expect(posted).toEqual([]);
    // Everything waits: nothing left to post.
    expect((await cycle()).heal.attempted).toBe(0);

    // Once its backfill no longer runs (cancelled here), a store-day may be posted again.
    await cancelBackfill(db, heal!.id, { workedOn: false });
    const fourth = await cycle();
    expect(fourth.heal.attempted).toBe(3);
    expect(queue.jobs).toHaveLength(9);
  });
});

const adminUrl = process.env.TEST_DATABASE_URL;

// The queue and the shared KLK slots live in PostgreSQL.
if (adminUrl)
  describe('the queued heal run by a worker [postgres]', () => {
    let sim: RunningSimulator;
    let target: Awaited<ReturnType<typeof createPostgresDatabase>>;
    let db: Db;
    beforeAll(async () => {
      sim = await startSimulator({ seed: 5, scale: 0.003 });
      target = await createPostgresDatabase(adminUrl);
      db = await openDb({ databaseUrl: target.url });
    });
    afterAll(async () => {
      await db?.close();
      await sim?.close();
      await target?.drop();
    });

    it('tries each store-day once per cycle, counts that try, and heals it at the next cycle once KLK answers', async () => {
      const heal = { lookbackDays: 4, maxRequestsPerHour: 0 };
      const base = { stores: STORES, concurrency: 2, klk: { attempts: 1 } };
      const queue = await openChunkQueue({ databaseUrl: target.url, supervise: true, logger: silentLogger });
      const slots = createKlkSlots({ databaseUrl: target.url, baseUrl: sim.url, connections: 2 });
      try {
        const cycle = (maxRequestsPerHour: number, at = NOW) => {
          const config = parseConfig({ ...base, heal: { ...heal, maxRequestsPerHour } });
          return runCycle({
            db,
            config,
            openKlk: () => openKlk(config, { baseUrl: sim.url, concurrency: 2, logger: silentLogger }),
            now: () => at,
            logger: silentLogger,
            healQueue: createHealQueue({
              db,
              config,
              queue,
              waitMs: 60_000,
              pollMs: 50,
              work: ({ stop, abort }) =>
                runWorker(
                  {
                    db,
                    queue,
                    config,
                    klk: openBackfillKlk(config, { baseUrl: sim.url, concurrency: 2, logger: silentLogger }),
                    slots,
                    logger: silentLogger,
                    concurrency: 2,
                    leaseMs: 30_000,
                    pollMs: 50,
                  },
                  { stop, abort },
                ),
            }),
          });
        };
        const attempts = async () =>
          (
            await db.query<{ store: string; day: string; attempts: number }>(
              `SELECT store_id AS store, to_char(day, 'YYYY-MM-DD') AS day, attempts FROM heal_attempts ORDER BY 1, 2`,
            )
          ).rows;

        // The ticks first, with no heal; then KLK answers every request with an error.
        expect((await cycle(0)).ticks.every((t) => t.status === 'success')).toBe(true);
        sim.options.errorPayloadRate = 1;
        const failed = await cycle(2);
        expect(failed.heal).toMatchObject({ attempted: 2, requests: 2, rows: 0, status: 'failed', backlogAfter: 6 });
        expect(await attempts()).toEqual([
          { store: STORES[0]!.id, day: '2026-01-13', attempts: 1 },
          { store: STORES[1]!.id, day: '2026-01-13', attempts: 1 },
        ]);

        // Answered an hour later (the two requests spent the hour's budget): the same two are posted again (their
        // backfill is over) and healed.
        sim.options.errorPayloadRate = 0;
        const healed = await cycle(2, new Date(NOW.getTime() + 61 * 60_000));
        expect(healed.heal).toMatchObject({ attempted: 2, requests: 2, status: 'success', backlogAfter: 4 });
        expect(healed.heal.rows).toBeGreaterThan(0);
        expect(await attempts()).toEqual([]);
      } finally {
        await queue.stop();
        await slots.close();
      }
    });
  });
