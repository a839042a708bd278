import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeEachBackend } from '../../test/backends.ts';
import { parseConfig, type Config } from '../catalogue/config.ts';
import { computeCoverage } from '../coverage/index.ts';
import type { Db } from '../db/types.ts';
import { addDays, eachDay } from '../shared/dates.ts';
import { recordRequest } from '../sync/runs.ts';
import { planChunks } from '../plan/plan.ts';
import { planForReport, readPlanEvidence } from './evidence.ts';

async function storeDay(
  db: Db,
  storeId: string,
  day: string,
  lines: number,
  klkLines: number | null = lines,
): Promise<void> {
  await db.query('INSERT INTO store_days (store_id, day, lines, total_usd, klk_lines) VALUES ($1, $2, $3, 0, $4)', [
    storeId,
    day,
    lines,
    klkLines,
  ]);
}

async function request(
  db: Db,
  outcome: 'ok' | 'empty' | 'failed' | 'timeout',
  lines: number,
  durationMs: number,
  loadMs?: number,
): Promise<void> {
  await recordRequest(db, {
    runId: null,
    storeId: 'tienda_01',
    dayFrom: '2025-05-01',
    dayTo: '2025-05-01',
    outcome,
    lines,
    durationMs,
    loadMs,
    attempts: 1,
  });
}

describeEachBackend('readPlanEvidence', (open) => {
  let db: Db;
  beforeEach(async () => {
    db = await open();
  });
  afterEach(() => db.close());

  it("gives each store's volume over its recent history: the median of its latest 28 days with sales not known partial", async () => {
    // 12 old days of 9,000 lines, then 28 recent days of 3,000 to 3,270: only the recent ones count.
    for (const [i, day] of eachDay('2025-04-01', '2025-04-12').entries())
      await storeDay(db, 'tienda_01', day, 9_000 + i);
    for (const [i, day] of eachDay('2025-04-13', '2025-05-10').entries())
      await storeDay(db, 'tienda_01', day, 3_000 + 10 * i);
    // Newer still, and not counted: a day KLK counted whole that the table holds part of, an empty day.
    await storeDay(db, 'tienda_01', '2025-05-11', 200, 3_100);
    await storeDay(db, 'tienda_01', '2025-05-12', 0, 0);
    await storeDay(db, 'tienda_02', '2025-05-01', 0, 0); // never sold
    await storeDay(db, 'tienda_03', '2025-05-01', 4_000, null); // an adopted day without KLK's count: taken as it is
    const evidence = await readPlanEvidence(db, ['tienda_01', 'tienda_02', 'tienda_03', 'tienda_04']);
    expect(evidence.historyLinesPerDay).toEqual({
      tienda_01: 3_135,
      tienda_02: null,
      tienda_03: 4_000,
      tienda_04: null,
    });
  });

  it('gives the durations of the requests that got a whole answer and of their loads, newest first, in seconds', async () => {
    await request(db, 'ok', 1_000, 400); // recorded before loads were timed
    await request(db, 'failed', 0, 30_000);
    await request(db, 'empty', 0, 120, 15);
    await request(db, 'timeout', 0, 120_000);
    await request(db, 'ok', 25_000, 2_500, 480.4);
    expect((await readPlanEvidence(db, [])).timingSamples).toEqual([
      { lines: 25_000, seconds: 2.5, loadSeconds: 0.48 },
      { lines: 0, seconds: 0.12, loadSeconds: 0.015 },
      { lines: 1_000, seconds: 0.4, loadSeconds: null },
    ]);
  });
});

describeEachBackend('planForReport', (open) => {
  let db: Db;
  let config: Config;
  const FROM = '2025-06-01';
  const TO = addDays(FROM, 189);
  beforeEach(async () => {
    db = await open();
    const all = parseConfig({});
    config = { ...all, stores: all.stores.filter((s) => s.id === 'tienda_05') };
  });
  afterEach(() => db.close());

  it("sizes a store without a complete day in the window from its history: the issue's 19 requests, not 95", async () => {
    // 190 days with nothing; the month before, ~3,000 lines a day.
    const report = await computeCoverage(db, config, { from: FROM, to: TO });
    expect(report.totals.missingStoreDays).toBe(190);
    const withoutHistory = await planForReport(db, report, { config });
    expect(withoutHistory.totals.requests).toBe(95);
    expect(withoutHistory.stores[0]).toMatchObject({ linesPerDaySource: 'default', chunkDays: 2 });

    for (const day of eachDay('2025-05-01', '2025-05-31')) await storeDay(db, 'tienda_05', day, 3_000);
    const plan = await planForReport(db, await computeCoverage(db, config, { from: FROM, to: TO }), { config });
    expect(plan.stores[0]).toMatchObject({ linesPerDay: 3_000, linesPerDaySource: 'history', chunkDays: 10 });
    expect(plan.totals.requests).toBe(19);
    expect(planChunks(plan).every((c) => eachDay(c.dayFrom, c.dayTo).length * 3_000 <= config.lineBudget)).toBe(true);
  });

  it('estimates with the requests this database recorded, and says how many', async () => {
    const report = await computeCoverage(db, config, { from: FROM, to: FROM });
    expect((await planForReport(db, report, { config })).totals.estimate).toMatchObject({
      model: 'default',
      samples: 0,
    });
    for (const [lines, ms] of [
      [1_000, 60],
      [5_000, 220],
      [12_000, 500],
    ] as const)
      await request(db, 'ok', lines, ms);
    const plan = await planForReport(db, report, { config, concurrency: 2 });
    expect(plan.totals.estimate).toMatchObject({ model: 'fitted', samples: 3, concurrency: 2 });
    expect(plan.totals.estimate.secondsPer1000Lines).toBeCloseTo(0.04, 2);
    // One day of the default 12,000 lines: ~0.5 s with this KLK, where the default model says 34 s.
    expect(plan.totals.estimatedSeconds).toBeLessThanOrEqual(1);
  });
});
