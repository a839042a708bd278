import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_STORES } from '../catalogue/stores.ts';
import { startSimulator, type RunningSimulator } from '../sim/index.ts';
import type { Interval } from '../sync/interval.ts';
import { describeEachCliBackend, runCli, runInProcess, type CliPlace } from '../../test/support/cli.ts';
import { truth } from '../../test/support/truth.ts';
import { loadThroughEtl } from '../../test/support/etl.ts';

const FROM = '2026-01-05';
const TO = '2026-01-18';
const store = (id: string) => DEFAULT_STORES.find((s) => s.id === id)!;
const totals = (expected: number, missing: number, partial: number) => ({
  expectedStoreDays: expected,
  missingStoreDays: missing,
  partialStoreDays: partial,
});

/**
 * tienda_01 and tienda_02 whole; tienda_03 with 16 January loaded only from 10:00 to 11:59 (a partial day anyone
 * sees); tienda_04 without the last two hours of 18 January (too many lines for its usual to flag it: only KLK can).
 */
const HISTORY: Record<string, Interval[]> = {
  tienda_01: [{ from: `${FROM} 00:00:00`, to: `${TO} 23:59:59` }],
  tienda_02: [{ from: `${FROM} 00:00:00`, to: `${TO} 23:59:59` }],
  tienda_03: [
    { from: `${FROM} 00:00:00`, to: '2026-01-15 23:59:59' },
    { from: '2026-01-16 10:00:00', to: '2026-01-16 11:59:59' },
    { from: '2026-01-17 00:00:00', to: `${TO} 23:59:59` },
  ],
  tienda_04: [{ from: `${FROM} 00:00:00`, to: `${TO} 18:59:59` }],
};

describe('ventas verify: bad input and help', () => {
  const run = (...args: string[]) => runInProcess(['verify', ...args]);

  it('exits 2 on a non-positive concurrency or a malformed KLK URL, and its help explains the exit codes', async () => {
    const zero = await run('--reconcile', '--concurrency', '0');
    expect(zero.code).toBe(2);
    expect(zero.stderr).toContain('--concurrency debe ser un entero positivo');
    const url = await run('--reconcile', '--klk-url', 'no es una url');
    expect(url.code).toBe(2);
    expect(url.stderr).toContain('URL de KLK inválida');
    const noScheme = await run('--reconcile', '--klk-url', 'localhost:7002');
    expect(noScheme.code).toBe(2);
    expect(noScheme.stderr).toContain('URL de KLK inválida');
    const withPassword = await run('--reconcile', '--klk-url', 'http://ana:secreta@klk:7002');
    expect(withPassword.code).toBe(2);
    expect(withPassword.stderr).toContain('"http://klk:7002"');
    expect(withPassword.stderr).not.toContain('secreta');
    const help = await run('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(
      /Código de salida[\s\S]*0 +todos los días-tienda esperados[\s\S]*1 +falta algún día-tienda/,
    );
  });
});

describeEachCliBackend('ventas verify', (backend) => {
  let sim: RunningSimulator;
  let place: CliPlace;
  let newestBackfill: number;
  const verify = (...args: string[]) =>
    runCli(['verify', '--from', FROM, '--to', TO, ...args], { cwd: place.cwd, env: place.env });
  const json = (stdout: string) => JSON.parse(stdout);

  beforeAll(async () => {
    sim = await startSimulator({ seed: 5, scale: 0.003, now: new Date('2026-01-26T16:00:00Z') });
    place = await backend.place();
    const db = await place.open();
    try {
      await loadThroughEtl(
        db,
        sim.url,
        Object.entries(HISTORY).map(([id, intervals]) => ({ store: store(id), intervals })),
        { chunkDays: 14 },
      );
      // Backfills as the executor records them: the newest finished one over the selected stores and overlapping the
      // window is the one shown.
      const insert = async (
        status: string,
        from: string,
        to: string,
        summary: unknown,
        finished: string | null,
        stores = ['tienda_01'],
      ) => {
        const { rows } = await db.query<{ id: number }>(
          `INSERT INTO backfills (status, params, summary, finished_at) VALUES ($1, $2, $3, $4::timestamptz) RETURNING id`,
          [
            status,
            JSON.stringify({ from, to, stores, before: totals(28, 9, 0) }),
            summary && JSON.stringify(summary),
            finished,
          ],
        );
        return rows[0]!.id;
      };
      await insert(
        'complete',
        FROM,
        TO,
        { before: totals(28, 20, 1), after: totals(28, 3, 0) },
        '2026-01-20 10:00:00+00',
      );
      newestBackfill = await insert(
        'partial',
        '2026-01-10',
        '2026-01-31',
        { before: totals(28, 12, 2), after: totals(28, 1, 0) },
        '2026-01-21 10:00:00+00',
      );
      await insert(
        'complete',
        '2025-11-01',
        '2025-11-30',
        { before: totals(30, 5, 0), after: totals(30, 0, 0) },
        '2026-01-22 10:00:00+00',
      );
      await insert('running', FROM, TO, null, null);
      // The newest of all, but over a store none of the tests select.
      await insert(
        'complete',
        FROM,
        TO,
        { before: totals(14, 14, 0), after: totals(14, 0, 0) },
        '2026-01-23 10:00:00+00',
        ['tienda_05'],
      );
    } finally {
      await db.close();
    }
  }, 120_000);
  afterAll(async () => {
    await sim?.close();
    await place?.cleanup();
  });

  it('exits 0 when every expected store-day is complete, and shows the newest finished backfill overlapping the window', async () => {
    const result = await verify('--stores', 'tienda_01,tienda_02');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(
      `Backfill #${newestBackfill} (2026-01-10 a 2026-01-31, parcial, terminado 2026-01-21 06:00):`,
    );
    expect(result.stdout).toMatch(
      /Antes\s+Después\n\s+Días-tienda esperados\s+28\s+28\n\s+Faltantes\s+12\s+1\n\s+Parciales\s+2\s+0/,
    );
    expect(result.stdout).toContain(
      'Verificado: los 28 días-tienda esperados del 2026-01-05 al 2026-01-18 están completos.',
    );
  });

  it('exits 1 when a day is partial, and says so in Spanish', async () => {
    const result = await verify('--stores', 'tienda_03,tienda_04');
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toMatch(/tienda_03\s+MAÑONGO\s+14\s+14\s+0\s+1\s/);
    expect(result.stdout).toMatch(/tienda_04\s+SAN DIEGO\s+14\s+14\s+0\s+0\s+100,0 %\s+OK/);
    expect(result.stdout).toContain('Incompleto (28 días-tienda esperados del 2026-01-05 al 2026-01-18): 1 parcial.');
    // No backfill touched these stores: none is shown.
    expect(result.stdout).not.toContain('Backfill #');
  });

  it('--reconcile lists the days KLK has more of as partial with both figures, and the next gaps shows them partial', async () => {
    const result = await verify(
      '--stores',
      'tienda_01,tienda_03,tienda_04',
      '--reconcile',
      '--klk-url',
      sim.url,
      '--format',
      'json',
    );
    expect(result.code, result.stderr).toBe(1);
    const report = json(result.stdout);
    const { reconcile, stores } = report;
    expect(Object.keys(report)).toEqual(['from', 'to', 'stores', 'patterns', 'totals', 'backfill', 'reconcile']);
    expect(report.backfill).toEqual({ id: newestBackfill, before: totals(28, 12, 2), after: totals(28, 1, 0) });
    const klkDay = (id: string, day: string) => {
      const [t] = truth(sim.options, store(id), day, day);
      return { lines: t!.lines, usd: Number(t!.usd) };
    };
    expect(reconcile).toMatchObject({ checkedStoreDays: 42, matching: 40, failedStores: [], retry: null });
    expect(reconcile.differing).toEqual([
      {
        store: 'tienda_03',
        day: '2026-01-16',
        state: 'partial',
        table: expect.any(Object),
        klk: klkDay('tienda_03', '2026-01-16'),
      },
      {
        store: 'tienda_04',
        day: '2026-01-18',
        state: 'partial',
        table: expect.any(Object),
        klk: klkDay('tienda_04', '2026-01-18'),
      },
    ]);
    for (const d of reconcile.differing) expect(d.table.lines).toBeLessThan(d.klk.lines);
    expect(stores.find((s: { store: string }) => s.store === 'tienda_04').partial).toEqual(['2026-01-18']);

    const gaps = await runCli(['gaps', '--from', FROM, '--to', TO, '--stores', 'tienda_04', '--format', 'json'], {
      cwd: place.cwd,
      env: place.env,
    });
    expect(gaps.code, gaps.stderr).toBe(0);
    expect(json(gaps.stdout).stores[0].partial).toEqual(['2026-01-18']);
  });

  it('--reconcile finds drift after invoices were voided at the source', async () => {
    sim.options.voidRate = 0.2;
    try {
      const result = await verify('--stores', 'tienda_01', '--reconcile', '--klk-url', sim.url, '--format', 'json');
      expect(result.code, result.stderr).toBe(1);
      const { reconcile, totals } = json(result.stdout);
      expect(reconcile.differing.length).toBeGreaterThan(0);
      expect(reconcile.matching + reconcile.differing.length).toBe(14);
      for (const d of reconcile.differing) {
        expect(d.state).toBe('drift');
        expect(d.table.lines).toBeGreaterThan(d.klk.lines);
      }
      // Drift is verify's finding, not a day state: the coverage still counts the days as complete.
      expect(totals).toEqual({
        expectedStoreDays: 14,
        missingStoreDays: 0,
        partialStoreDays: 0,
        rejectedStoreDays: 0,
        futureStoreDays: 0,
      });
    } finally {
      sim.options.voidRate = 0;
    }
  });

  it('--reconcile reports a store KLK fails for as failed, never as matching, with the command to retry (exit 1)', async () => {
    const config = join(place.cwd, 'one-attempt.json');
    writeFileSync(config, JSON.stringify({ klk: { attempts: 1 } }));
    sim.options.failRate = 1;
    try {
      const result = await verify('--stores', 'tienda_02', '--reconcile', '--klk-url', sim.url, '--config', config);
      expect(result.code, result.stderr).toBe(1);
      expect(result.stdout).toContain('Tiendas sin conciliar (KLK no respondió; no se dan por buenas):');
      expect(result.stdout).toMatch(/tienda_02: 14 días sin revisar \(KLK SUC007\/TAVBOL .*HTTP 5\d\d/);
      expect(result.stdout).toContain(
        `ventas verify --reconcile --from ${FROM} --to ${TO} --stores tienda_02 --klk-url ${sim.url} --config ${config}`,
      );
      expect(result.stdout).toContain('1 tienda sin conciliar');
      expect(result.stdout).toContain(
        'Conciliación con KLK: 0 días-tienda revisados: 0 coinciden, 0 difieren, 14 sin revisar.',
      );
      expect(result.stdout).not.toContain('todos coinciden');
    } finally {
      sim.options.failRate = 0;
    }
  });

  it('--reconcile against a KLK nobody answers at: exit 3 with the command to retry, no day taken as matching', async () => {
    const config = join(place.cwd, 'one-attempt.json');
    writeFileSync(config, JSON.stringify({ klk: { attempts: 1 } }));
    const result = await verify(
      '--stores',
      'tienda_02',
      '--reconcile',
      '--klk-url',
      'http://127.0.0.1:9',
      '--config',
      config,
    );
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toContain('KLK no responde en http://127.0.0.1:9');
    expect(result.stderr).toContain('ventas verify --reconcile');
    expect(result.stdout).toContain(
      'Conciliación con KLK: 0 días-tienda revisados: 0 coinciden, 0 difieren, 14 sin revisar.',
    );
  });
});
