import { afterAll, beforeAll, expect, it } from 'vitest';
import { runBackfill } from '../backfill/run.ts';
import { parseConfig, type Config } from '../catalogue/config.ts';
import { createKlkClient } from '../klk/index.ts';
import { silentLogger } from '../shared/logger.ts';
import { parseLatency, startSimulator, type RunningSimulator } from '../sim/index.ts';
import { describeEachBackend } from '../../test/backends.ts';
import { earlyHours, loadThroughEtl, wholeDays } from '../../test/support/etl.ts';

/**
 * The promise of the plan's estimate: against a KLK whose latency dominates (the simulator's `--latency-ms`, small
 * answers so the machine's own work is noise), `estimatedSeconds` is within 0.7x..1.4x of the backfill's wall time.
 */
const WINDOW = { from: '2025-12-01', to: '2025-12-30' };
const STORES = ['tienda_01', 'tienda_02', 'tienda_07', 'tienda_10'];
/**
 * 100 ms per request plus 1.5 s per 1,000 lines, on answers of ~30-80 lines a day: a 14-day chunk takes ~1.5 s, of
 * which the machine's own work (parsing, loading) is a few milliseconds.
 */
const LATENCY = '100,1500';
const CONCURRENCY = 3;

describeEachBackend('the plan estimate against a real backfill', (open) => {
  let sim: RunningSimulator;
  let config: Config;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 5, scale: 0.005, latencyMs: parseLatency(LATENCY) });
    const all = parseConfig({});
    config = { ...all, stores: all.stores.filter((s) => STORES.includes(s.id)) };
  });
  afterAll(() => sim.close());

  it('estimates the backfill within 0.7x..1.4x of its wall time, from requests the ETL recorded', async () => {
    const db = await open();
    try {
      const store = (id: string) => config.stores.find((s) => s.id === id)!;
      // One ETL run whose requests have different sizes, so the fit sees both the per-request and the per-line
      // cost: a 10-day chunk, 5-day chunks, single days, and two hours of a day (a partial day the backfill completes).
      await loadThroughEtl(
        db,
        sim.url,
        [
          { store: store('tienda_01'), intervals: [wholeDays('2025-12-01', '2025-12-10')] },
          {
            store: store('tienda_07'),
            intervals: [wholeDays('2025-12-01', '2025-12-05'), wholeDays('2025-12-06', '2025-12-10')],
          },
          {
            store: store('tienda_02'),
            intervals: [wholeDays('2025-12-01'), wholeDays('2025-12-02'), wholeDays('2025-12-03')],
          },
          { store: store('tienda_10'), intervals: [wholeDays('2025-12-01', '2025-12-02'), earlyHours('2025-12-03')] },
        ],
        { chunkDays: 10, concurrency: CONCURRENCY },
      );
      const started = performance.now();
      const outcome = await runBackfill(
        { db, config, klk: createKlkClient({ baseUrl: sim.url, concurrency: CONCURRENCY }), logger: silentLogger },
        { ...WINDOW, stores: config.stores, concurrency: CONCURRENCY },
      );
      const wallSeconds = (performance.now() - started) / 1000;

      expect(outcome.summary).toMatchObject({
        status: 'complete',
        after: { missingStoreDays: 0, partialStoreDays: 0 },
      });
      // The ETL and the backfill both timed each request and, apart, the load of its answer.
      const { rows } = await db.query<{ requests: number; timed: number }>(
        `SELECT count(*)::int AS requests, count(load_ms)::int AS timed FROM klk_requests WHERE outcome IN ('ok', 'empty')`,
      );
      expect(rows[0]).toEqual({
        requests: 8 + outcome.plan!.totals.requests,
        timed: 8 + outcome.plan!.totals.requests,
      });
      const totals = outcome.plan!.totals;
      expect(totals.estimate).toMatchObject({ model: 'fitted', samples: 8, concurrency: CONCURRENCY });
      const ratio = totals.estimatedSeconds / wallSeconds;
      expect(ratio, `estimado ${totals.estimatedSeconds} s, real ${wallSeconds.toFixed(2)} s`).toBeGreaterThanOrEqual(
        0.7,
      );
      expect(ratio, `estimado ${totals.estimatedSeconds} s, real ${wallSeconds.toFixed(2)} s`).toBeLessThanOrEqual(1.4);
    } finally {
      await db.close();
    }
  });
});
