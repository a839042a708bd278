import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_STORES } from '../catalogue/stores.ts';
import { AnswerBatch } from '../load/batch.ts';
import { loadBatch } from '../load/upsert.ts';
import { klkLine } from '../../test/fixtures/klk-line.ts';
import { describeEachCliBackend, runCli, runInProcess, type CliPlace } from '../../test/support/cli.ts';

describe('ventas quarantine: bad input', () => {
  const run = (...args: string[]) => runInProcess(['quarantine', ...args]);

  it('exits 2 on an impossible date, --from after --to, an unknown store, a non-positive limit or an unknown format', async () => {
    const badDate = await run('--from', '2026-02-30');
    expect([badDate.code, badDate.stderr]).toEqual([2, expect.stringContaining('--from inválida: "2026-02-30"')]);
    const reversed = await run('--from', '2026-01-13', '--to', '2026-01-12');
    expect([reversed.code, reversed.stderr]).toEqual([
      2,
      expect.stringContaining('--from (2026-01-13) es posterior a --to (2026-01-12)'),
    ]);
    const unknown = await run('--stores', 'tienda_14');
    expect([unknown.code, unknown.stderr]).toEqual([
      2,
      expect.stringContaining('tienda desconocida: tienda_14. Tiendas válidas: tienda_01'),
    ]);
    const limit = await run('--limit', '0');
    expect([limit.code, limit.stderr]).toEqual([2, expect.stringContaining('--limit debe ser un entero positivo')]);
    const format = await run('--format', 'csv');
    expect([format.code, format.stderr]).toEqual([2, expect.stringMatching(/csv.*table, json/)]);
  });
});

describeEachCliBackend('ventas quarantine', (backend) => {
  const manongo = DEFAULT_STORES.find((s) => s.id === 'tienda_03')!;
  let place: CliPlace;
  const quarantine = (...args: string[]) => runCli(['quarantine', ...args], { cwd: place.cwd, env: place.env });

  beforeAll(async () => {
    place = await backend.place();
    const db = await place.open();
    try {
      // 12 January: three lines of another warehouse; 13 January: one line without its amounts and one good line.
      const load = async (day: string, lines: Array<Record<string, unknown>>) => {
        const batch = new AnswerBatch(manongo, { fechaDesde: day, fechaHasta: day });
        for (const line of lines) batch.add(line);
        await db.transaction((tx) => loadBatch(tx, batch, { runId: null, wholeDays: true, proven: true }));
      };
      await load(
        '2026-01-12',
        [1, 2, 3].map((linea) => klkLine({ numero_factura: 'F-12', linea, fecha: '2026-01-12' }, 'OTRO')),
      );
      await load('2026-01-13', [
        klkLine({ numero_factura: 'F-13', linea: 1, fecha: '2026-01-13', financiero: [] }, manongo.almacen),
        klkLine({ numero_factura: 'F-13', linea: 2, fecha: '2026-01-13' }, manongo.almacen),
      ]);
    } finally {
      await db.close();
    }
  }, 60_000);
  afterAll(() => place?.cleanup());

  it("lists a store-day's quarantined lines in a Spanish table: store, day, invoice, line, reason", async () => {
    const result = await quarantine('--stores', 'tienda_03', '--from', '2026-01-12', '--to', '2026-01-12');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trimEnd().split('\n')).toEqual([
      '3 líneas en cuarentena de tienda_03 del 2026-01-12 al 2026-01-12:',
      '',
      'Tienda     Día         Factura  Línea  Motivo',
      `─────────  ──────────  ───────  ─────  ${'─'.repeat('otro almacén: OTRO (la tienda vende por TTMAN)'.length)}`,
      'tienda_03  2026-01-12  F-12     1      otro almacén: OTRO (la tienda vende por TTMAN)',
      'tienda_03  2026-01-12  F-12     2      otro almacén: OTRO (la tienda vende por TTMAN)',
      'tienda_03  2026-01-12  F-12     3      otro almacén: OTRO (la tienda vende por TTMAN)',
    ]);
  });

  it('--format json gives the total and the newest lines up to --limit, each with the line KLK sent', async () => {
    const result = await quarantine('--format', 'json', '--limit', '1');
    expect(result.code, result.stderr).toBe(0);
    const json = JSON.parse(result.stdout);
    expect(json.total).toBe(4);
    expect(json.lines).toEqual([
      {
        id: expect.any(Number),
        runId: null,
        store: 'tienda_03',
        day: '2026-01-13',
        invoice: 'F-13',
        line: '1',
        reason: 'financiero: faltan los importes',
        quarantinedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
        raw: klkLine({ numero_factura: 'F-13', linea: 1, fecha: '2026-01-13', financiero: [] }, manongo.almacen),
      },
    ]);
    const table = await quarantine('--limit', '2');
    expect(table.stdout).toContain('4 líneas en cuarentena (se muestran las 2 más recientes; --limit para ver más):');
  });

  it('says so when nothing matches', async () => {
    const result = await quarantine('--stores', 'tienda_01', '--from', '2026-01-12');
    expect([result.code, result.stdout.trim()]).toEqual([
      0,
      'No hay líneas en cuarentena de tienda_01 desde el 2026-01-12.',
    ]);
  });
});
