import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '../catalogue/config.ts';
import { DEFAULT_STORES } from '../catalogue/stores.ts';
import type { Db } from '../db/types.ts';
import { createKlkClient } from '../klk/index.ts';
import { startSimulator, type RunningSimulator } from '../sim/index.ts';
import type { Interval } from '../sync/interval.ts';
import { describeEachBackend } from '../../test/backends.ts';
import { klkLine } from '../../test/fixtures/klk-line.ts';
import { tableDays, truth } from '../../test/support/truth.ts';
import { computeCoverage } from '../coverage/index.ts';
import { difference, reconcile, requestWindows } from './reconcile.ts';
import { loadThroughEtl } from '../../test/support/etl.ts';

const store = (id: string) => DEFAULT_STORES.find((s) => s.id === id)!;
const [t01, t18] = [store('tienda_01'), store('tienda_18')];

describe('difference', () => {
  it('tells missing, partial and drift apart, and matching days from all three', () => {
    expect(difference({ lines: 10, totalUsdE4: 5 }, { lines: 10, totalUsdE4: 5 })).toBeNull();
    expect(difference({ lines: 0, totalUsdE4: 0 }, { lines: 0, totalUsdE4: 0 })).toBeNull();
    expect(difference({ lines: 0, totalUsdE4: 0 }, { lines: 3, totalUsdE4: 9 })).toBe('missing');
    expect(difference({ lines: 2, totalUsdE4: 9 }, { lines: 3, totalUsdE4: 9 })).toBe('partial');
    expect(difference({ lines: 4, totalUsdE4: 9 }, { lines: 3, totalUsdE4: 9 })).toBe('drift');
    expect(difference({ lines: 3, totalUsdE4: 10 }, { lines: 3, totalUsdE4: 9 })).toBe('drift');
    expect(difference({ lines: 3, totalUsdE4: 10 }, { lines: 0, totalUsdE4: 0 })).toBe('drift');
  });
});

describe('requestWindows', () => {
  it('spans at most chunkDays calendar days per request and starts and ends each on a listed day', () => {
    const days = ['2025-12-22', '2025-12-23', '2025-12-24', '2025-12-26', '2025-12-27', '2025-12-31', '2026-01-02'];
    expect(requestWindows(days, 1)).toEqual(days.map((d) => ({ fechaDesde: d, fechaHasta: d })));
    expect(requestWindows(days, 5)).toEqual([
      { fechaDesde: '2025-12-22', fechaHasta: '2025-12-26' },
      { fechaDesde: '2025-12-27', fechaHasta: '2025-12-31' },
      { fechaDesde: '2026-01-02', fechaHasta: '2026-01-02' },
    ]);
    expect(requestWindows(days, 90)).toEqual([{ fechaDesde: '2025-12-22', fechaHasta: '2026-01-02' }]);
    expect(requestWindows([], 3)).toEqual([]);
  });
});

describeEachBackend('reconcile', (open) => {
  let db: Db;
  let sim: RunningSimulator;
  const FROM = '2026-01-05';
  const TO = '2026-01-11';
  beforeAll(async () => {
    sim = await startSimulator({ seed: 11, scale: 0.003, now: new Date('2026-01-26T16:00:00Z') });
    db = await open();
  });
  afterAll(async () => {
    await sim.close();
    await db.close();
  });
  beforeEach(async () => {
    await db.exec('TRUNCATE ventas, store_days, etl_runs, klk_requests, quarantine, store_leases');
    Object.assign(sim.options, { voidRate: 0, failRate: 0, maxLines: null, replay: null });
    sim.resetStats();
  });

  const klk = (attempts = 4, timeoutMs?: number) =>
    createKlkClient({ baseUrl: sim.url, attempts, backoffMs: 5, timeoutMs });
  const load = (intervals: Interval[], s = t01) =>
    loadThroughEtl(db, sim.url, [{ store: s, intervals }], { chunkDays: 7 });
  const run = (config: Config, client = klk(), storeIds = [t01.id]) =>
    reconcile({ db, klk: client, config, concurrency: 3 }, { from: FROM, to: TO, storeIds });

  it('finds a whole table matching, in one request per store when the line budget allows, or one per day', async () => {
    await load([{ from: `${FROM} 00:00:00`, to: `${TO} 23:59:59` }]);
    sim.resetStats();
    expect(await run(parseConfig({}))).toEqual({
      checkedStoreDays: 7,
      matching: 7,
      differing: [],
      unproven: [],
      failedStores: [],
      klkUnreachable: false,
    });
    expect(sim.stats().requests).toBe(1);
    sim.resetStats();
    expect((await run(parseConfig({ lineBudget: 1 }))).matching).toBe(7);
    expect(sim.stats().requests).toBe(7);
  });

  it('lists a day KLK has more of as partial with both figures, and records KLK as its reference', async () => {
    await load([
      { from: `${FROM} 00:00:00`, to: '2026-01-08 23:59:59' },
      { from: '2026-01-09 00:00:00', to: '2026-01-09 17:59:59' },
      { from: '2026-01-10 00:00:00', to: `${TO} 23:59:59` },
    ]);
    const config = parseConfig({});
    const [loaded] = (await tableDays(db, t01.id, '2026-01-09', '2026-01-09')).map((d) => d.lines);
    const [whole] = truth(sim.options, t01, '2026-01-09', '2026-01-09');
    expect(loaded).toBeGreaterThanOrEqual(whole!.lines / 2); // not partial by its usual: only KLK can tell
    const before = await computeCoverage(db, config, { from: FROM, to: TO, stores: [t01] });
    expect(before.stores[0]!.partial).toEqual([]);

    const result = await run(config);
    expect(result.differing).toEqual([
      {
        store: t01.id,
        day: '2026-01-09',
        state: 'partial',
        table: { lines: loaded, usd: Number((await tableDays(db, t01.id, '2026-01-09', '2026-01-09'))[0]!.usd) },
        klk: { lines: whole!.lines, usd: Number(whole!.usd) },
      },
    ]);
    expect([result.checkedStoreDays, result.matching]).toEqual([7, 6]);
    const after = await computeCoverage(db, config, { from: FROM, to: TO, stores: [t01] });
    expect(after.stores[0]!.partial).toEqual(['2026-01-09']);
    const { rows } = await db.query<{ klk_lines: number; klk_total_usd: string; whole: boolean }>(
      `SELECT klk_lines, klk_total_usd, whole_day_extracted_at IS NOT NULL AS whole FROM store_days
        WHERE store_id = $1 AND day = '2026-01-09'`,
      [t01.id],
    );
    expect(rows).toEqual([{ klk_lines: whole!.lines, klk_total_usd: whole!.usd, whole: true }]);
  });

  it('finds drift where invoices were voided at the source; the coverage still calls those days complete', async () => {
    await load([{ from: `${FROM} 00:00:00`, to: `${TO} 23:59:59` }]);
    sim.options.voidRate = 0.3;
    const result = await run(parseConfig({}));
    expect(result.differing.length).toBeGreaterThan(0);
    const voided = truth(sim.options, t01, FROM, TO);
    for (const d of result.differing) {
      expect(d.state).toBe('drift');
      expect(d.table.lines).toBeGreaterThan(d.klk.lines);
      expect(d.klk).toEqual({
        lines: voided.find((v) => v.day === d.day)!.lines,
        usd: Number(voided.find((v) => v.day === d.day)!.usd),
      });
    }
    expect(result.matching + result.differing.length).toBe(7);
    const coverage = await computeCoverage(db, parseConfig({}), { from: FROM, to: TO, stores: [t01] });
    expect([coverage.stores[0]!.missingDays, coverage.stores[0]!.partialDays]).toEqual([0, 0]);
  });

  it('reports a store whose requests fail as failed with its unchecked days, never as matching, and writes nothing', async () => {
    await load([{ from: `${FROM} 00:00:00`, to: `${TO} 23:59:59` }]);
    const storeDays = () => db.query(`SELECT * FROM store_days ORDER BY day`).then((r) => r.rows);
    const before = await storeDays();
    sim.options.failRate = 1;
    const result = await run(parseConfig({}), klk(1));
    expect(result).toMatchObject({ checkedStoreDays: 0, matching: 0, differing: [] });
    expect(result.failedStores).toEqual([
      { store: t01.id, uncheckedDays: 7, error: expect.stringMatching(/HTTP 5\d\d/) },
    ]);
    expect(await storeDays()).toEqual(before);
  });

  it('halves a multi-day request that times out until the halves pass', async () => {
    await load([{ from: `${FROM} 00:00:00`, to: `${TO} 23:59:59` }]);
    Object.assign(sim.options, { maxLines: 60, hangMs: 1_000 });
    const result = await run(parseConfig({}), klk(4, 300));
    expect(result).toEqual({
      checkedStoreDays: 7,
      matching: 7,
      differing: [],
      unproven: [],
      failedStores: [],
      klkUnreachable: false,
    });
    expect(sim.stats().requests).toBeGreaterThan(1);
  });

  it('checks a missing day against KLK: lines there keep it missing, none there makes it empty', async () => {
    // A catalogue that does not know PARAISO opened on 2025-12-06: KLK has nothing before, so those days become empty.
    const config = parseConfig({ stores: [{ ...t18, openedOn: undefined }], closedDays: ['12-25', '01-01'] });
    const result = await reconcile(
      { db, klk: klk(), config, concurrency: 3 },
      { from: '2025-12-01', to: '2025-12-07', storeIds: [t18.id] },
    );
    expect(result.checkedStoreDays).toBe(7);
    expect(result.differing.map((d) => [d.day, d.state])).toEqual([
      ['2025-12-06', 'missing'],
      ['2025-12-07', 'missing'],
    ]);
    const coverage = await computeCoverage(db, config, { from: '2025-12-01', to: '2025-12-07', stores: config.stores });
    expect(coverage.days[t18.id]!.map((c) => c.state)).toEqual([
      'empty',
      'empty',
      'empty',
      'empty',
      'empty',
      'missing',
      'missing',
    ]);
  });

  it('confirms a store new once KLK answers the days before its first sale with 0 lines', async () => {
    const config = parseConfig({ stores: [{ ...t18, openedOn: undefined }], closedDays: ['12-25', '01-01'] });
    const window = { from: '2025-11-20', to: '2025-12-10', stores: config.stores };
    await load([{ from: '2025-12-06 00:00:00', to: '2025-12-10 23:59:59' }], t18);
    expect((await computeCoverage(db, config, window)).stores[0]).toMatchObject({
      isNew: false,
      suspectedNew: true,
      missingDays: 16,
    });
    await reconcile(
      { db, klk: klk(), config, concurrency: 3 },
      { from: '2025-11-20', to: '2025-12-05', storeIds: [t18.id] },
    );
    expect((await computeCoverage(db, config, window)).stores[0]).toMatchObject({
      isNew: true,
      suspectedNew: false,
      missingDays: 0,
    });
  });

  it('records a day whose lines KLK sends are all invalid as rejected, with their count', async () => {
    // KLK answers the day with two lines of another warehouse (what the loader quarantines).
    const lines = [1, 2].map((linea) => klkLine({ linea, fecha: '2026-01-07' }, 'OTRO'));
    const file = join(mkdtempSync(join(tmpdir(), 'ventas-replay-')), 'answer.json');
    const meta = {
      sucursal_codigo: t01.sucursal,
      fecha_desde: '2026-01-07',
      fecha_hasta: '2026-01-07',
      total_registros: 2,
    };
    writeFileSync(file, JSON.stringify({ meta, ventas: lines }));
    sim.options.replay = file;
    const result = await reconcile(
      { db, klk: klk(), config: parseConfig({}), concurrency: 3 },
      { from: '2026-01-07', to: '2026-01-07', storeIds: [t01.id] },
    );
    expect(result.failedStores).toEqual([]);
    expect([result.checkedStoreDays, result.matching]).toEqual([1, 1]);
    const coverage = await computeCoverage(db, parseConfig({}), {
      from: '2026-01-07',
      to: '2026-01-07',
      stores: [t01],
    });
    expect(coverage.days[t01.id]![0]).toMatchObject({ state: 'rejected', rejectedLines: 2 });
    expect(coverage.stores[0]).toMatchObject({ rejectedDays: 1, expectedDays: 1, daysWithData: 0 });
  });
});
