import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { DEFAULT_STORES } from '../catalogue/stores.ts';
import type { Db } from '../db/types.ts';
import { createKlkClient } from '../klk/index.ts';
import { silentLogger } from '../shared/logger.ts';
import { startSimulator, type RunningSimulator } from '../sim/index.ts';
import { describeEachBackend } from '../../test/backends.ts';
import { tableDays, truth } from '../../test/support/truth.ts';
import { runEtl, type EtlJob } from './etl.ts';

const store = (id: string) => DEFAULT_STORES.find((s) => s.id === id)!;
const [t01, t02, t11] = [store('tienda_01'), store('tienda_02'), store('tienda_11')];

describeEachBackend('runEtl', (open) => {
  let db: Db;
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 7, scale: 0.01 });
  });
  afterAll(async () => {
    await sim.close();
  });
  beforeEach(async () => {
    db = await open();
    sim.options.duplicateRate = 0;
    sim.options.failRate = 0;
    sim.options.errorPayloadRate = 0;
    sim.options.truncateRate = 0;
    sim.options.maxLines = null;
    sim.options.voidRate = 0;
    return () => db.close();
  });

  const deps = (overrides: { attempts?: number; timeoutMs?: number } = {}) => ({
    db,
    klk: createKlkClient({
      baseUrl: sim.url,
      attempts: overrides.attempts ?? 6,
      backoffMs: 5,
      timeoutMs: overrides.timeoutMs,
    }),
    logger: silentLogger,
    concurrency: 3,
    leaseWaitMs: 0,
  });
  const job = (stores: (typeof t01)[], from: string, to: string, extra: Partial<EtlJob> = {}): EtlJob => ({
    type: 'manual',
    targets: stores.map((s) => ({ store: s, intervals: [{ from, to }] })),
    chunkDays: 2,
    ...extra,
  });

  it('loads exactly the lines KLK has for every store and day, and a second run changes nothing', async () => {
    const first = await runEtl(deps(), job([t01, t02, t11], '2026-01-10 00:00:00', '2026-01-13 23:59:59'));
    expect(first.status).toBe('success');
    for (const s of [t01, t02, t11]) {
      expect(await tableDays(db, s.id, '2026-01-10', '2026-01-13')).toEqual(
        truth(sim.options, s, '2026-01-10', '2026-01-13'),
      );
    }
    expect(first.totals.inserted).toBeGreaterThan(0);
    expect(first.totals.requests).toBe(6);
    const second = await runEtl(deps(), job([t01, t02, t11], '2026-01-10 00:00:00', '2026-01-13 23:59:59'));
    expect([second.totals.inserted, second.totals.updated, second.totals.unchanged]).toEqual([
      0,
      0,
      first.totals.inserted,
    ]);
  });

  it('loads exactly the interval asked across partial first and last days', async () => {
    await runEtl(deps(), job([t01], '2026-01-10 12:00:00', '2026-01-12 08:00:59', { chunkDays: 5 }));
    const { rows } = await db.query<{ outside: number; total: number }>(
      `SELECT count(*) FILTER (WHERE fecha_venta < '2026-01-10 12:00:00' OR fecha_venta >= '2026-01-12 08:01:00')::int AS outside,
              count(*)::int AS total FROM ventas`,
    );
    const { generateDay } = await import('../sim/index.ts');
    const expected =
      generateDay(sim.options, t01.sucursal, '2026-01-10', { horaDesde: '12:00:00', almacen: t01.almacen }).length +
      generateDay(sim.options, t01.sucursal, '2026-01-11', { almacen: t01.almacen }).length +
      generateDay(sim.options, t01.sucursal, '2026-01-12', { horaHasta: '08:00:59', almacen: t01.almacen }).length;
    expect(rows[0]).toEqual({ outside: 0, total: expected });
  });

  it('drops duplicates of one answer and counts them; still completes through failures, truncation and error payloads', async () => {
    Object.assign(sim.options, { duplicateRate: 0.1, failRate: 0.2, truncateRate: 0.1, errorPayloadRate: 0.1 });
    const summary = await runEtl(deps({ attempts: 10 }), job([t01, t02], '2026-01-10 00:00:00', '2026-01-13 23:59:59'));
    expect(summary.status).toBe('success');
    expect(summary.totals.duplicates).toBeGreaterThan(0);
    for (const s of [t01, t02]) {
      expect(await tableDays(db, s.id, '2026-01-10', '2026-01-13')).toEqual(
        truth(sim.options, s, '2026-01-10', '2026-01-13'),
      );
    }
  });

  it('reports a store failed when KLK keeps failing: never "0 sales", nothing recorded as extracted', async () => {
    sim.options.failRate = 1;
    const summary = await runEtl(deps({ attempts: 2 }), job([t01], '2026-01-10 00:00:00', '2026-01-11 23:59:59'));
    expect(summary.status).toBe('failed');
    expect(summary.stores.tienda_01!.status).toBe('failed');
    expect(summary.stores.tienda_01!.errors[0]).toMatch(/HTTP 5\d\d/);
    expect(summary.stores.tienda_01!.failedWindows).toEqual([
      { from: '2026-01-10 00:00:00', to: '2026-01-11 23:59:59' },
    ]);
    const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM store_days`);
    expect(rows[0]!.n).toBe(0);
    const runs = await db.query<{ status: string; error: string | null }>(`SELECT status, error FROM etl_runs`);
    expect(runs.rows).toEqual([{ status: 'failed', error: null }]);
  });

  it('records whole days in the summary, KLK empty answers included, and the run history', async () => {
    const summary = await runEtl(deps(), job([t01], '2025-12-24 00:00:00', '2025-12-26 23:59:59', { chunkDays: 1 }));
    const { rows } = await db.query<{ day: string; lines: number; klk_lines: number }>(
      `SELECT day, lines, klk_lines FROM store_days WHERE store_id = 'tienda_01' ORDER BY day`,
    );
    const expected = truth(sim.options, t01, '2025-12-24', '2025-12-26');
    expect(rows).toEqual([
      { day: '2025-12-24', lines: expected[0]!.lines, klk_lines: expected[0]!.lines },
      { day: '2025-12-25', lines: 0, klk_lines: 0 },
      { day: '2025-12-26', lines: expected[1]!.lines, klk_lines: expected[1]!.lines },
    ]);
    const runs = await db.query(`SELECT run_type, status, stores, rows_inserted FROM etl_runs WHERE id = $1`, [
      summary.runId,
    ]);
    expect(runs.rows).toEqual([
      { run_type: 'manual', status: 'success', stores: ['tienda_01'], rows_inserted: summary.totals.inserted },
    ]);
  });

  it.each([
    ['times out until the halves pass', { hangMs: 5_000, timeoutMs: 300 }],
    ["gets KLK's gateway 504 before our own timeout", { hangMs: 20, timeoutMs: 5_000 }],
  ])('splits a multi-day request that %s', async (_label, { hangMs, timeoutMs }) => {
    sim.options.maxLines = 250;
    sim.options.hangMs = hangMs;
    const summary = await runEtl(
      deps({ timeoutMs }),
      job([t11], '2026-01-10 00:00:00', '2026-01-13 23:59:59', { chunkDays: 4 }),
    );
    expect(summary.status).toBe('success');
    expect(summary.totals.requests).toBeGreaterThan(1);
    expect(await tableDays(db, t11.id, '2026-01-10', '2026-01-13')).toEqual(
      truth(sim.options, t11, '2026-01-10', '2026-01-13'),
    );
  });

  it('never lets two runs process one store at once: the second skips it and says how to resume', async () => {
    sim.options.latencyMs = [150, 0];
    try {
      const [a, b] = await Promise.all([
        runEtl(deps(), job([t01], '2026-01-10 00:00:00', '2026-01-12 23:59:59', { chunkDays: 1 })),
        runEtl(deps(), job([t01], '2026-01-10 00:00:00', '2026-01-12 23:59:59', { chunkDays: 1 })),
      ]);
      const statuses = [a.stores.tienda_01!.status, b.stores.tienda_01!.status].sort();
      expect(statuses).toEqual(['skipped', 'success']);
      expect(a.totals.inserted + b.totals.inserted).toBe(
        truth(sim.options, t01, '2026-01-10', '2026-01-12').reduce((n, d) => n + d.lines, 0),
      );
    } finally {
      sim.options.latencyMs = [0, 0];
    }
  });

  it('writes nothing on a dry run', async () => {
    const summary = await runEtl(deps(), job([t01], '2026-01-10 00:00:00', '2026-01-10 23:59:59', { dryRun: true }));
    expect(summary.totals.extracted).toBeGreaterThan(0);
    for (const table of ['ventas', 'store_days', 'etl_runs', 'klk_requests', 'store_leases', 'quarantine']) {
      const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
      expect([table, rows[0]!.n]).toEqual([table, 0]);
    }
  });

  it('deletes lines that vanished at the source only with --mirror on whole days verified complete', async () => {
    await runEtl(deps(), job([t01], '2026-01-10 00:00:00', '2026-01-11 23:59:59'));
    sim.options.voidRate = 0.2;
    const plain = await runEtl(deps(), job([t01], '2026-01-10 00:00:00', '2026-01-11 23:59:59'));
    expect(plain.totals.deleted).toBe(0);
    const mirrored = await runEtl(deps(), job([t01], '2026-01-10 00:00:00', '2026-01-11 23:59:59', { mirror: true }));
    expect(mirrored.totals.deleted).toBeGreaterThan(0);
    expect(await tableDays(db, t01.id, '2026-01-10', '2026-01-11')).toEqual(
      truth(sim.options, t01, '2026-01-10', '2026-01-11'),
    );
  });
});
