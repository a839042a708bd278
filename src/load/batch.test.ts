import { describe, expect, it } from 'vitest';
import { DEFAULT_STORES } from '../catalogue/stores.ts';
import { klkLine } from '../../test/fixtures/klk-line.ts';
import { AnswerBatch } from './batch.ts';
import { VENTAS_COLUMNS } from './rows.ts';

const florAmarillo = DEFAULT_STORES.find((s) => s.id === 'tienda_11')!;
const column = (batch: AnswerBatch, name: string) => {
  const at = VENTAS_COLUMNS.findIndex(([n]) => n === name);
  return Buffer.concat(batch.copyText())
    .toString()
    .split('\n')
    .slice(0, -1)
    .map((row) => row.split('\t')[at]);
};

describe('AnswerBatch', () => {
  it('drops duplicate lines of one answer by key and counts them', () => {
    const batch = new AnswerBatch(florAmarillo, { fechaDesde: '2026-01-12', fechaHasta: '2026-01-12' });
    batch.add(klkLine());
    batch.add(klkLine());
    batch.add(klkLine({ linea: 2 }));
    expect([batch.size, batch.duplicates, batch.received]).toEqual([2, 1, 3]);
    expect(column(batch, 'numero_factura')).toEqual(['C10-01-00008064_L1', 'C10-01-00008064_L2']);
    expect(batch.mirrorKeys()).toEqual(['C10-01-00008064_L1', 'C10-01-00008064_L2']);
  });

  it('tallies unique lines and their exact USD total per day', () => {
    const batch = new AnswerBatch(florAmarillo, { fechaDesde: '2026-01-11', fechaHasta: '2026-01-12' });
    const usd = (v: number) => ({ financiero: [{ ...(klkLine().financiero as object[])[0], venta_total_usd: v }] });
    batch.add(klkLine({ linea: 1, ...usd(0.1) }));
    batch.add(klkLine({ linea: 2, ...usd(0.2) }));
    batch.add(klkLine({ linea: 2, ...usd(0.2) }));
    batch.add(klkLine({ linea: 3, fecha: '2026-01-11', ...usd(1.23456) }));
    expect(Object.fromEntries(batch.days)).toEqual({
      '2026-01-12': { lines: 2, totalUsdE4: 3000 },
      '2026-01-11': { lines: 1, totalUsdE4: 12346 },
    });
  });

  it('rejects lines outside the asked days and hours, at second precision like KLK', () => {
    const batch = new AnswerBatch(florAmarillo, {
      fechaDesde: '2026-01-12',
      fechaHasta: '2026-01-12',
      horaDesde: '08:00:00',
      horaHasta: '08:00:59',
    });
    batch.add(klkLine({ linea: 1, hora: '08:00:00.0000000' }));
    batch.add(klkLine({ linea: 2, hora: '08:00:59.9999999' }));
    batch.add(klkLine({ linea: 3, hora: '07:59:59.9999999' }));
    batch.add(klkLine({ linea: 4, hora: '08:01:00.0000000' }));
    batch.add(klkLine({ linea: 5, fecha: '2026-01-13', hora: '08:00:10.0000000' }));
    expect(batch.size).toBe(2);
    expect(batch.rejections.map((r) => [r.linea, r.reason.split(' (')[0]])).toEqual([
      ['3', 'fuera de la ventana pedida'],
      ['4', 'fuera de la ventana pedida'],
      ['5', 'fuera de la ventana pedida'],
    ]);
  });

  it('keeps rejected lines whole with their reason for the quarantine', () => {
    const batch = new AnswerBatch(florAmarillo, { fechaDesde: '2026-01-12', fechaHasta: '2026-01-12' });
    const bad = klkLine({ linea: 9, fecha: 'ayer' });
    batch.add(bad);
    expect(batch.rejected).toBe(1);
    expect(batch.rejections[0]).toEqual({
      numeroFactura: 'C10-01-00008064',
      linea: '9',
      reason: 'fecha: fecha no interpretable (se espera YYYY-MM-DD)',
      line: bad,
    });
  });
});

describe('AnswerBatch rejected lines per day', () => {
  const window = { fechaDesde: '2026-01-12', fechaHasta: '2026-01-13' };
  const otherWarehouse = (overrides: Record<string, unknown>) => klkLine(overrides, 'TFAMA-PPF');
  const batchOf = (lines: Array<Record<string, unknown>>) => {
    const batch = new AnswerBatch(florAmarillo, window);
    for (const line of lines) batch.add(line);
    return batch;
  };

  it('gives each rejection the day of its readable date, and counts them per day', () => {
    const batch = batchOf([
      otherWarehouse({ linea: 1 }),
      klkLine({ linea: 2, hora: 'mediodía' }),
      klkLine({ linea: 3, fecha: 'ayer' }), // no readable day
      klkLine({ linea: 4, fecha: '2026-01-14' }), // outside the asked days: its own day
      otherWarehouse({ linea: 5, fecha: '2026-01-13' }),
      klkLine({ linea: 6 }),
    ]);
    expect(batch.rejections.map((r) => [r.linea, r.day])).toEqual([
      ['1', '2026-01-12'],
      ['2', '2026-01-12'],
      ['3', undefined],
      ['4', '2026-01-14'],
      ['5', '2026-01-13'],
    ]);
    const byDay = batch.rejectedByDay();
    expect([...byDay.keys()].sort()).toEqual(['2026-01-12', '2026-01-13', '2026-01-14']);
    expect(byDay.get('2026-01-12')!.lines).toBe(2);
    expect(byDay.get('2026-01-12')!.fingerprint).toMatch(/^[0-9a-f]{32}$/);
  });

  it("fingerprints a day's rejected lines whatever their order, and tells any change, addition or removal", () => {
    const lines = [1, 2, 3].map((linea) => otherWarehouse({ linea }));
    const fingerprint = (ls: Array<Record<string, unknown>>) =>
      batchOf(ls).rejectedByDay().get('2026-01-12')!.fingerprint;
    const base = fingerprint(lines);
    expect(fingerprint([lines[2]!, lines[0]!, lines[1]!])).toBe(base);
    expect(fingerprint([...lines.slice(0, 2), otherWarehouse({ linea: 3, hora: '10:15:31.0000000' })])).not.toBe(base);
    expect(fingerprint(lines.slice(0, 2))).not.toBe(base);
    expect(fingerprint([...lines, lines[0]!])).not.toBe(base);
  });

  it('counts every rejected line of a day, beyond those kept whole for the quarantine', () => {
    const many = Array.from({ length: 1_005 }, (_, i) => otherWarehouse({ linea: i + 1 }));
    const batch = batchOf(many);
    expect(batch.rejections).toHaveLength(1_000);
    expect(batch.rejectedByDay().get('2026-01-12')!.lines).toBe(1_005);
  });
});
