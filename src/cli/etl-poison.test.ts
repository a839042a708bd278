import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { DEFAULT_STORES } from '../catalogue/stores.ts';
import { startSimulator, type RunningSimulator } from '../sim/index.ts';
import { klkLine } from '../../test/fixtures/klk-line.ts';
import { describeEachCliBackend, runCli, type CliPlace } from '../../test/support/cli.ts';

const t01 = DEFAULT_STORES.find((s) => s.id === 'tienda_01')!;

describeEachCliBackend('ventas etl: an answer with lines PostgreSQL cannot store', (backend) => {
  let sim: RunningSimulator;
  let place: CliPlace;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 3, scale: 0.003 });
  });
  afterAll(() => sim.close());
  beforeEach(async () => {
    place = await backend.place();
    return () => place.cleanup();
  });

  it('loads every good line, quarantines the poisoned ones exactly as sent, exits 0 with the summary', async () => {
    const line = (linea: number, overrides: Record<string, unknown> = {}) =>
      klkLine({ linea, fecha: '2026-01-10', ...overrides }, t01.almacen);
    // Both in loaded columns: the NUL used to fail the whole load, the lone surrogate to be stored as U+FFFD.
    const nul = line(2, {
      cantidad: [{ ...(klkLine().cantidad as object[])[0], codigo_almacen: t01.almacen, nombre_almacen: 'PISO\u0000' }],
    });
    const lone = line(4, { producto: [{ codigo_producto: '000\ud83d', descripcion_producto: 'ARROZ 1KG' }] });
    const lines = [line(1), nul, line(3), lone, line(5, { codigo_promocion: '🎉' })];
    // JSON.stringify writes the NUL and the lone surrogate as \u escapes, as KLK does.
    const meta = {
      sucursal_codigo: t01.sucursal,
      fecha_desde: '2026-01-10',
      fecha_hasta: '2026-01-10',
      total_registros: lines.length,
    };
    const file = join(mkdtempSync(join(tmpdir(), 'ventas-replay-')), 'answer.json');
    writeFileSync(file, JSON.stringify({ meta, ventas: lines }));
    sim.options.replay = file;
    try {
      const r = await runCli(
        [
          'etl',
          '--klk-url',
          sim.url,
          '--tiendas',
          'tienda_01',
          '--fecha-desde',
          '2026-01-10',
          '--fecha-hasta',
          '2026-01-10',
        ],
        {
          cwd: place.cwd,
          env: place.env,
        },
      );
      expect(r.stderr).not.toMatch(/error|invalid/i);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('Tiendas:        1 ok, 0 con error, 0 omitidas');
      expect(r.stdout).toContain('Filas:          3 insertadas, 0 actualizadas, 0 sin cambios');
      expect(r.stdout).toContain('En cuarentena: 2');
    } finally {
      sim.options.replay = null;
    }
    const listed = await runCli(['quarantine', '--format', 'json'], { cwd: place.cwd, env: place.env });
    expect(listed.code).toBe(0);
    const found = JSON.parse(listed.stdout) as {
      total: number;
      lines: Array<{ line: string; reason: string; raw: unknown }>;
    };
    expect(found.total).toBe(2);
    expect(found.lines.map((l) => [l.line, l.reason]).sort()).toEqual([
      ['2', 'cantidad[0].nombre_almacen contiene un carácter nulo (U+0000)'],
      ['4', 'producto[0].codigo_producto contiene un sustituto UTF-16 suelto (U+D83D)'],
    ]);
    expect(found.lines.find((l) => l.line === '2')!.raw).toEqual(nul);
    expect(found.lines.find((l) => l.line === '4')!.raw).toEqual(lone);
    const db = await place.open();
    try {
      const { rows } = await db.query<{ status: string; quarantined: number }>(
        `SELECT status, quarantined::int AS quarantined FROM etl_runs`,
      );
      expect(rows).toEqual([{ status: 'success', quarantined: 2 }]);
      const sold = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ventas WHERE ubicacion_id = 'tienda_01'`,
      );
      expect(sold.rows[0]!.n).toBe(3);
    } finally {
      await db.close();
    }
  });
});
