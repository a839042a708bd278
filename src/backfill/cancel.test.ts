import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { parseConfig } from '../catalogue/config.ts';
import type { Db } from '../db/types.ts';
import { createKlkClient, type KlkClient } from '../klk/index.ts';
import { cancelRun } from '../runs/cancel.ts';
import { chooseBackfillToResume } from '../runs/resume.ts';
import { silentLogger } from '../shared/logger.ts';
import { startSimulator, type RunningSimulator } from '../sim/index.ts';
import { startRun } from '../sync/runs.ts';
import { waitForQueuedBackfill } from '../worker/wait.ts';
import { describeEachBackend } from '../../test/backends.ts';
import { claimChunk, claimChunkById, createBackfill, ledgerTotals } from './ledger.ts';
import { runBackfill } from './run.ts';

const config = parseConfig({});
const STORES = ['tienda_01', 'tienda_02', 'tienda_03', 'tienda_04', 'tienda_05'];
const params = {
  from: '2026-01-05',
  to: '2026-01-06',
  stores: STORES,
  mirror: false,
  concurrency: 1,
  before: { expectedStoreDays: 10, missingStoreDays: 10, partialStoreDays: 0 },
};
const chunks = STORES.map((storeId) => ({ storeId, dayFrom: '2026-01-05', dayTo: '2026-01-06' }));

describeEachBackend('a cancelled backfill', (open) => {
  let db: Db;
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 3, scale: 0.002 });
  });
  afterAll(() => sim.close());
  beforeEach(async () => {
    db = await open();
    return () => db.close();
  });

  it('has no chunk handed out by the executor nor by a queue worker, while a live backfill beside it does', async () => {
    const cancelled = await createBackfill(db, params, chunks);
    const live = await createBackfill(db, params, chunks);
    await cancelRun(db, { kind: 'backfill', id: cancelled });
    expect(await claimChunk(db, cancelled, 'yo:1:a', 60_000)).toBeNull();
    const { rows } = await db.query<{ id: number }>(
      `SELECT min(id)::int AS id FROM backfill_chunks WHERE backfill_id = $1`,
      [cancelled],
    );
    expect(await claimChunkById(db, rows[0]!.id, 'yo:1:a', 60_000)).toBeNull();
    expect(await claimChunk(db, live, 'yo:1:a', 60_000)).toMatchObject({ backfillId: live, state: 'running' });
    expect((await ledgerTotals(db, cancelled)).pending).toBe(5);
  });

  it('cancelled while it runs: the process stops claiming, concludes it cancelled with its chunks left, and --resume refuses it', async () => {
    const simKlk = createKlkClient({ baseUrl: sim.url, attempts: 2, backoffMs: 5 });
    let backfillId = 0;
    let cancelled: Promise<unknown> | undefined;
    // The first request cancels the backfill, as `ventas runs cancel` from another terminal would. Every request waits
    // for that cancel: no loop can finish its chunk and claim another before it (on a fast database one did).
    const klk: KlkClient = {
      stats: () => simKlk.stats(),
      async fetchVentas(request, newCollector, options) {
        await (cancelled ??= cancelRun(db, { kind: 'backfill', id: backfillId }));
        return simKlk.fetchVentas(request, newCollector, options);
      },
    };
    const stores = config.stores.filter((s) => STORES.includes(s.id));
    const outcome = await runBackfill(
      { db, config, klk, logger: silentLogger, onStart: (info) => (backfillId = info.backfillId) },
      { from: params.from, to: params.to, stores, concurrency: 1 },
    );
    const summary = outcome.summary!;
    expect(summary.status).toBe('cancelled');
    // Two loops (concurrency 1) had claimed a chunk each before the cancel: those finish, the rest are never run.
    expect(summary.chunks.done).toBeLessThanOrEqual(2);
    expect(summary.chunks.total).toBe(5);
    const totals = await ledgerTotals(db, backfillId);
    expect(totals.pending).toBe(5 - summary.chunks.done);
    const { rows } = await db.query<{ status: string; run: string }>(
      `SELECT b.status, (SELECT r.status FROM etl_runs r WHERE r.run_type = 'backfill') AS run FROM backfills b WHERE b.id = $1`,
      [backfillId],
    );
    expect(rows).toEqual([{ status: 'cancelled', run: 'cancelled' }]);
    await expect(chooseBackfillToResume(db, { id: backfillId })).rejects.toThrow('fue cancelado');
  });

  it('queued, it ends for whoever waits for it, with its chunks left undone', async () => {
    const id = await createBackfill(db, params, chunks);
    const runId = await startRun(db, { type: 'backfill', window: null, stores: STORES });
    await cancelRun(db, { kind: 'backfill', id });
    const summary = await waitForQueuedBackfill(db, config, { backfillId: id, runId }, { pollMs: 10 });
    expect(summary).toMatchObject({ status: 'cancelled', chunks: { total: 5, done: 0, failed: 0 } });
  });
});
