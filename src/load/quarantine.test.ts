import { beforeEach, expect, it } from 'vitest';
import { DEFAULT_STORES } from '../catalogue/stores.ts';
import type { Db } from '../db/types.ts';
import { describeEachBackend } from '../../test/backends.ts';
import { klkLine } from '../../test/fixtures/klk-line.ts';
import { readAnswer } from '../klk/answer.ts';
import { AnswerBatch } from './batch.ts';
import { listQuarantine } from './quarantine.ts';
import { loadBatch } from './upsert.ts';

const florAmarillo = DEFAULT_STORES.find((s) => s.id === 'tienda_11')!;
const manongo = { ...DEFAULT_STORES.find((s) => s.id === 'tienda_03')!, almacen: 'TFAMA' };

describeEachBackend('listQuarantine', (open) => {
  let db: Db;
  const load = async (
    store: typeof florAmarillo,
    from: string,
    to: string,
    lines: Array<Record<string, unknown>>,
    runId: number,
  ) => {
    const batch = new AnswerBatch(store, { fechaDesde: from, fechaHasta: to });
    for (const line of lines) batch.add(line);
    await db.transaction((tx) => loadBatch(tx, batch, { runId, wholeDays: true, proven: true }));
  };
  const bad = (linea: number, fecha = '2026-01-12') => klkLine({ linea, fecha }, 'OTRO');

  beforeEach(async () => {
    db = await open();
    await load(
      florAmarillo,
      '2026-01-12',
      '2026-01-13',
      [bad(1), bad(2), bad(3, '2026-01-13'), klkLine({ linea: 4, fecha: 'ayer' }), klkLine({ linea: 5 })],
      1,
    );
    await load(manongo, '2026-01-12', '2026-01-12', [bad(7)], 2);
    // The same day again: its lines are quarantined a second time, line 2 now with another amount.
    await load(florAmarillo, '2026-01-12', '2026-01-12', [bad(1), klkLine({ linea: 2, financiero: [] }, 'OTRO')], 3);
    return () => db.close();
  });

  it('lists each line once, as last quarantined, newest sales day first, with its day, key, reason and line', async () => {
    const { total, lines } = await listQuarantine(db, { limit: 50 });
    expect(total).toBe(5);
    expect(lines.map((l) => [l.store, l.day, l.invoice, l.line, l.runId])).toEqual([
      ['tienda_11', '2026-01-13', 'C10-01-00008064', '3', 1],
      ['tienda_11', '2026-01-12', 'C10-01-00008064', '1', 3],
      ['tienda_11', '2026-01-12', 'C10-01-00008064', '2', 3],
      ['tienda_03', '2026-01-12', 'C10-01-00008064', '7', 2],
      ['tienda_11', null, 'C10-01-00008064', '4', 1],
    ]);
    expect(lines.find((l) => l.line === '2')!.reason).toBe('financiero: faltan los importes');
    expect(lines.find((l) => l.line === '7')).toMatchObject({
      reason: 'otro almacén: OTRO (la tienda vende por TFAMA)',
      raw: bad(7),
    });
    expect(lines[0]!.quarantinedAt).toBeInstanceOf(Date);
  });

  it('filters by store and day (leaving out lines without a readable day), and limits what it returns, not the total', async () => {
    const day = await listQuarantine(db, { storeIds: ['tienda_11'], from: '2026-01-12', to: '2026-01-12', limit: 50 });
    expect(day.total).toBe(2);
    expect(day.lines.map((l) => l.line)).toEqual(['1', '2']);
    const limited = await listQuarantine(db, { storeIds: ['tienda_11'], limit: 1 });
    expect([limited.total, limited.lines.length]).toEqual([4, 1]);
    expect((await listQuarantine(db, { storeIds: ['tienda_01'], limit: 5 })).total).toBe(0);
    expect((await listQuarantine(db, { to: '2026-01-12', limit: 50 })).total).toBe(3);
  });
});

describeEachBackend('a poisoned line costs that line, nothing else', (open) => {
  let db: Db;
  beforeEach(async () => {
    db = await open();
    return () => db.close();
  });

  it('loads every good line of the answer and quarantines each poisoned one with its reason, the line recoverable exactly', async () => {
    const product = (linea: number, descripcion: string) =>
      klkLine({ linea, producto: [{ codigo_producto: '000123', descripcion_producto: descripcion }] });
    const poisoned = [
      product(2, 'HARINA\u0000PAN'),
      klkLine({ linea: 4, cantidad: [{ ...(klkLine().cantidad as object[])[0], nombre_almacen: 'PISO \ud800' }] }),
      klkLine({ linea: 5, codigo_promocion: '\udfff' }),
      // A key with a NUL: the line has no storable key, so it is quarantined without one.
      klkLine({ numero_factura: 'C10\u0000', linea: 6 }),
      // Poisoned and of another warehouse: the poison is named, and the line still kept exactly.
      klkLine({ linea: 7, tiene_promocion: 'no\u0000' }, 'OTRO'),
    ];
    const good = [klkLine({ linea: 1 }), product(3, 'CAFÉ "EL ☕" 😀'), klkLine({ linea: 8, fecha: '2026-01-13' })];
    const lines = [good[0], poisoned[0], good[1], ...poisoned.slice(1), good[2]];
    // As KLK sends them: JSON text, NUL and lone surrogates as \u escapes (JSON.stringify writes both that way).
    const body = JSON.stringify({
      meta: { sucursal_codigo: 'C10', fecha_desde: '2026-01-12', fecha_hasta: '2026-01-13', total_registros: 8 },
      ventas: lines,
    });
    expect(body).toContain('HARINA\\u0000PAN');
    expect(body).toContain('PISO \\ud800');
    const batch = new AnswerBatch(florAmarillo, { fechaDesde: '2026-01-12', fechaHasta: '2026-01-13' });
    // In pieces, so lines reach the batch both parsed by the splitter and as text.
    const bytes = Buffer.from(body);
    const pieces = [bytes.subarray(0, 3000), bytes.subarray(3000, 7000), bytes.subarray(7000)];
    await readAnswer(
      (async function* () {
        yield* pieces;
      })(),
      (line, escaped) => batch.add(line, escaped),
    );

    const counts = await db.transaction((tx) => loadBatch(tx, batch, { runId: 1, wholeDays: true, proven: true }));
    expect(counts).toMatchObject({ inserted: 3, updated: 0, quarantined: 5 });
    const { rows } = await db.query<{ numero_factura: string; producto_id: string }>(
      `SELECT numero_factura, producto_id FROM ventas ORDER BY numero_factura`,
    );
    expect(rows.map((r) => r.numero_factura)).toEqual([
      'C10-01-00008064_L1',
      'C10-01-00008064_L3',
      'C10-01-00008064_L8',
    ]);

    const { total, lines: quarantined } = await listQuarantine(db, { limit: 50 });
    expect(total).toBe(5);
    const byReason = new Map(quarantined.map((l) => [l.reason, l]));
    expect([...byReason.keys()].sort()).toEqual([
      'cantidad[0].nombre_almacen contiene un sustituto UTF-16 suelto (U+D800)',
      'codigo_promocion contiene un sustituto UTF-16 suelto (U+DFFF)',
      'numero_factura contiene un carácter nulo (U+0000)',
      'producto[0].descripcion_producto contiene un carácter nulo (U+0000)',
      'tiene_promocion contiene un carácter nulo (U+0000)',
    ]);
    // Each line comes back as KLK sent it: the NUL and the lone surrogates, not U+FFFD, not an escape.
    for (const line of poisoned) expect(quarantined.map((l) => l.raw)).toContainEqual(line);
    expect(byReason.get('numero_factura contiene un carácter nulo (U+0000)')).toMatchObject({
      invoice: null,
      line: '6',
      day: '2026-01-12',
    });
    expect(byReason.get('producto[0].descripcion_producto contiene un carácter nulo (U+0000)')).toMatchObject({
      invoice: 'C10-01-00008064',
      line: '2',
    });

    // The days' summary: 2 loaded and 5 quarantined on the 12th, 1 loaded on the 13th.
    const days = await db.query<{ day: string; lines: number; klk_lines: number; klk_rejected: number }>(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, lines, klk_lines, klk_rejected FROM store_days WHERE store_id = $1 ORDER BY day`,
      [florAmarillo.id],
    );
    expect(days.rows).toEqual([
      { day: '2026-01-12', lines: 2, klk_lines: 2, klk_rejected: 5 },
      { day: '2026-01-13', lines: 1, klk_lines: 1, klk_rejected: 0 },
    ]);
  });

  it('keeps a clean rejected line in the jsonb column and a poisoned one as JSON text', async () => {
    const batch = new AnswerBatch(florAmarillo, { fechaDesde: '2026-01-12', fechaHasta: '2026-01-12' });
    batch.add(klkLine({ linea: 1, fecha_hora_completa: '\u0000' }));
    batch.add(klkLine({ linea: 2 }, 'OTRO'));
    await db.transaction((tx) => loadBatch(tx, batch, { runId: 1, wholeDays: true, proven: true }));
    const { rows } = await db.query<{ linea: string; in_jsonb: boolean; line_text: string | null }>(
      `SELECT linea, line IS NOT NULL AS in_jsonb, line_text FROM quarantine ORDER BY linea`,
    );
    expect(
      rows.map((r) => [r.linea, r.in_jsonb, r.line_text?.includes('"fecha_hora_completa":"\\u0000"') ?? null]),
    ).toEqual([
      ['1', false, true],
      ['2', true, null],
    ]);
  });
});
