import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { DEFAULT_STORES } from '../catalogue/stores.ts';
import { startSimulator, type RunningSimulator } from '../sim/index.ts';
import { klkLine } from '../../test/fixtures/klk-line.ts';
import { describeEachCliBackend, runInPlace, type CliPlace } from '../../test/support/cli.ts';

const t01 = DEFAULT_STORES.find((s) => s.id === 'tienda_01')!;
// A Monday; the store sold on each of the four Mondays before it.
const MONDAY = '2026-01-12';
const day = ['--fecha-desde', MONDAY, '--fecha-hasta', MONDAY, '--tiendas', t01.id];
const window = ['--from', MONDAY, '--to', MONDAY, '--stores', t01.id];
/** A stopped clock at a moment (Caracas time), as `VENTAS_CLOCK` takes it. */
const clockAt = (local: string) => ({ VENTAS_CLOCK: `${local}-04:00,0,0` });
const meta = (total: number, fields: Record<string, unknown> = {}) => ({
  sucursal_codigo: t01.sucursal,
  fecha_desde: MONDAY,
  fecha_hasta: MONDAY,
  hora_desde: '',
  hora_hasta: '',
  CodArticulo: '',
  almacen: t01.almacen,
  total_registros: total,
  fecha_generacion: '2026-01-13T12:00:00Z',
  ...fields,
});

describeEachCliBackend('"0 sales" must be proven', (backend) => {
  let sim: RunningSimulator;
  let place: CliPlace;
  let answerFile: string;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 3, scale: 0.003 });
    answerFile = join(mkdtempSync(join(tmpdir(), 'ventas-replay-')), 'answer.json');
    place = await backend.place();
    // Two attempts per request: a failure is retried once, fast.
    writeFileSync(join(place.cwd, 'ventas.config.json'), JSON.stringify({ klk: { attempts: 2 } }));
    // Four Mondays of history, from the simulator as it is.
    const history = await run([
      'etl',
      '--klk-url',
      sim.url,
      '--tiendas',
      t01.id,
      '--fecha-desde',
      '2025-12-15',
      '--fecha-hasta',
      '2026-01-11',
    ]);
    expect(history.code).toBe(0);
  });
  afterAll(async () => {
    await place.cleanup();
    await sim.close();
  });
  // Each test starts from the history alone: nothing known of the Monday.
  beforeEach(async () => {
    const db = await place.open();
    try {
      await db.query('DELETE FROM store_days WHERE day >= $1::date', [MONDAY]);
    } finally {
      await db.close();
    }
  });

  const run = (args: string[], env: Record<string, string> = {}) =>
    runInPlace(place, args, { VENTAS_CONFIG: join(place.cwd, 'ventas.config.json'), ...env });
  /** Runs `ventas etl` for the Monday with KLK answering `body` to every request. */
  async function etlAnswering(body: string, env: Record<string, string> = {}) {
    writeFileSync(answerFile, body);
    sim.options.replay = answerFile;
    try {
      return await run(['etl', '--klk-url', sim.url, ...day], env);
    } finally {
      sim.options.replay = null;
    }
  }
  const mondayCoverage = async (env: Record<string, string> = {}) => {
    const gaps = await run(['gaps', ...window, '--format', 'json'], env);
    return JSON.parse(gaps.stdout).stores[0] as {
      expectedDays: number;
      missingDays: number;
      unprovenEmpty: Array<Record<string, unknown>>;
    };
  };

  it('an answer without meta is no proof: the day stays missing, planned, and verify says why', async () => {
    for (const body of ['[]', '{"ventas":[]}', JSON.stringify({ meta: meta(0, { almacen: undefined }), ventas: [] })]) {
      const etl = await etlAnswering(body);
      expect([body, etl.code]).toEqual([body, 0]);
      expect(etl.stdout).toContain('Días con 0 líneas sin probar');
      expect(etl.stdout).toContain(`  tienda_01: ${MONDAY}`);
      const monday = await mondayCoverage();
      expect(monday).toMatchObject({ expectedDays: 1, missingDays: 1 });
      expect(monday.unprovenEmpty).toEqual([
        { day: MONDAY, reason: 'no-proof', since: expect.any(String), confirmFrom: null },
      ]);
    }
    const gaps = await run(['gaps', ...window]);
    expect(gaps.stdout).toContain(`tienda_01 ${MONDAY}: la respuesta de KLK no traía un «meta» que la pruebe completa`);
    const verify = await run(['verify', ...window]);
    expect(verify.code).toBe(1);
    const plan = JSON.parse((await run(['plan', ...window, '--format', 'json'])).stdout);
    expect(plan.totals).toMatchObject({ missingStoreDays: 1, requests: 1 });

    // Reconciling against the same unproven answer reviews the day and does not count it as matching.
    writeFileSync(answerFile, '[]');
    sim.options.replay = answerFile;
    try {
      const reconcile = await run(['verify', '--reconcile', '--klk-url', sim.url, ...window, '--format', 'json']);
      expect(reconcile.code).toBe(1);
      expect(JSON.parse(reconcile.stdout).reconcile).toMatchObject({
        checkedStoreDays: 1,
        matching: 0,
        differing: [],
        unproven: [{ store: t01.id, day: MONDAY, reason: 'no-proof', confirmFrom: null }],
      });
      const text = await run(['verify', '--reconcile', '--klk-url', sim.url, ...window]);
      expect(text.stdout).toContain('1 día-tienda revisado: 0 coinciden, 0 difieren, 1 sin probar.');
    } finally {
      sim.options.replay = null;
    }
  });

  it('a proven empty answer for a usual weekday counts only once a second one comes 6 hours later', async () => {
    const empty = JSON.stringify({ meta: meta(0), ventas: [] });
    const first = clockAt('2026-01-13T08:00:00');
    expect((await etlAnswering(empty, first)).code).toBe(0);
    const waiting = await mondayCoverage(first);
    expect(waiting).toMatchObject({ expectedDays: 1, missingDays: 1 });
    expect(waiting.unprovenEmpty).toEqual([
      {
        day: MONDAY,
        reason: 'needs-second-answer',
        since: '2026-01-13T12:00:00.000Z',
        confirmFrom: '2026-01-13T18:00:00.000Z',
      },
    ]);
    expect((await run(['gaps', ...window], first)).stdout).toContain('lo confirma desde 2026-01-13 14:00');

    // Reconciling an hour later gets the same proven answer: still not a match.
    writeFileSync(answerFile, empty);
    sim.options.replay = answerFile;
    try {
      const early = await run(
        ['verify', '--reconcile', '--klk-url', sim.url, ...window, '--format', 'json'],
        clockAt('2026-01-13T09:00:00'),
      );
      expect(early.code).toBe(1);
      expect(JSON.parse(early.stdout).reconcile).toMatchObject({
        matching: 0,
        unproven: [{ day: MONDAY, reason: 'needs-second-answer' }],
      });
    } finally {
      sim.options.replay = null;
    }

    // Seven hours after the first: the second proven answer makes the day empty, no longer expected.
    const later = clockAt('2026-01-13T15:00:00');
    expect((await etlAnswering(empty, later)).code).toBe(0);
    expect(await mondayCoverage(later)).toMatchObject({ expectedDays: 0, missingDays: 0, unprovenEmpty: [] });
    expect((await run(['verify', ...window], later)).code).toBe(0);
  });

  it('an answer whose meta contradicts the request fails the request and loads nothing of it', async () => {
    const lines = [1, 2].map((linea) => klkLine({ linea, fecha: MONDAY }, t01.almacen));
    const etl = await etlAnswering(JSON.stringify({ meta: meta(2, { sucursal_codigo: 'SUC099' }), ventas: lines }));
    expect(etl.code).toBe(1);
    expect(etl.stdout).toContain('tienda_01 (fallida)');
    expect(etl.stdout).toContain(
      'la respuesta de KLK no corresponde a la petición: meta.sucursal_codigo es "SUC099" y se pidió "SUC001" (2 intentos)',
    );
    expect(etl.stdout).toContain('Para reanudar lo que faltó:');
    const db = await place.open();
    try {
      const { rows } = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ventas WHERE ubicacion_id = $1 AND fecha_venta >= $2::date`,
        [t01.id, MONDAY],
      );
      expect(rows[0]!.n).toBe(0);
    } finally {
      await db.close();
    }
    expect(await mondayCoverage()).toMatchObject({ missingDays: 1, unprovenEmpty: [] });
  });
});
