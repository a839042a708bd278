import { beforeEach, expect, it } from 'vitest';
import type { Db } from '../db/types.ts';
import { runStartedAt, startRun } from '../sync/runs.ts';
import { describeEachBackend } from '../../test/backends.ts';
import { createBackfill, lockBackfill, runStoreResults } from './ledger.ts';

const params = {
  from: '2026-01-05',
  to: '2026-01-07',
  stores: ['tienda_01', 'tienda_02', 'tienda_03'],
  mirror: false,
  concurrency: 1,
  before: {},
};
const chunks = [
  { storeId: 'tienda_01', dayFrom: '2026-01-05', dayTo: '2026-01-05' },
  { storeId: 'tienda_02', dayFrom: '2026-01-06', dayTo: '2026-01-06' },
  { storeId: 'tienda_03', dayFrom: '2026-01-07', dayTo: '2026-01-07' },
];

/**
 * What a backfill's run is credited with, and how long it ran, come from the ledger measured from the run's start,
 * which the run history gives it: to the microsecond, so a chunk finished just before a resumed run began stays the
 * earlier run's.
 */
describeEachBackend('the ledger measured from a run', (open) => {
  let db: Db;
  let backfillId: number;
  let runId: number;
  beforeEach(async () => {
    db = await open();
    backfillId = await db.transaction((tx) => createBackfill(tx, params, chunks));
    runId = await startRun(db, { type: 'backfill', window: null, stores: params.stores });
    return () => db.close();
  });

  const finish = (store: string, state: 'done' | 'failed', at: string) =>
    db.query(
      `UPDATE backfill_chunks SET state = $2, lines = 10, rows_inserted = 10, updated_at = $3 WHERE backfill_id = $1 AND store_id = $4`,
      [backfillId, state, at, store],
    );

  it('credits a run only with the chunks finished since it started, to the microsecond', async () => {
    await db.query(`UPDATE etl_runs SET started_at = '2026-01-08 10:00:00.000500+00' WHERE id = $1`, [runId]);
    await finish('tienda_01', 'done', '2026-01-08 10:00:00.000400+00'); // the run before, in the same millisecond
    await finish('tienda_02', 'done', '2026-01-08 10:00:00.000500+00');
    await finish('tienda_03', 'failed', '2026-01-08 10:00:00.000600+00');

    expect(await runStartedAt(db, runId)).toBe('2026-01-08T10:00:00.000500Z');
    const results = await runStoreResults(db, backfillId, await runStartedAt(db, runId));
    expect(Object.keys(results)).toEqual(['tienda_02', 'tienda_03']);
    expect(results.tienda_02).toMatchObject({ status: 'success', requests: 1, extracted: 10, inserted: 10 });
    expect(results.tienda_03).toMatchObject({ status: 'failed', requests: 0, extracted: 0 });
    // No such run: nothing is credited.
    expect(await runStartedAt(db, runId + 1)).toBeNull();
    expect(await runStoreResults(db, backfillId, null)).toEqual({});
  });

  it("measures a concluding backfill's seconds from its run's start, or from its creation without one", async () => {
    await db.query(`UPDATE backfills SET created_at = now() - interval '100 seconds' WHERE id = $1`, [backfillId]);
    await db.query(`UPDATE etl_runs SET started_at = now() - interval '10 seconds' WHERE id = $1`, [runId]);
    const since = await runStartedAt(db, runId);
    const [fromRun, fromCreation] = await db.transaction(async (tx) => [
      await lockBackfill(tx, backfillId, since),
      await lockBackfill(tx, backfillId, null),
    ]);
    expect(fromRun).toMatchObject({ status: 'running', params: { stores: params.stores }, summary: null });
    expect(fromRun!.seconds).toBeGreaterThanOrEqual(10);
    expect(fromRun!.seconds).toBeLessThan(100);
    expect(fromCreation!.seconds).toBeGreaterThanOrEqual(100);
    expect(await db.transaction((tx) => lockBackfill(tx, backfillId + 1, since))).toBeNull();
  });
});
