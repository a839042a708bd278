import { describe, expect, it } from 'vitest';
import { DEFAULT_STORES } from '../catalogue/stores.ts';
import { klkLine } from '../../test/fixtures/klk-line.ts';
import { AnswerBatch } from './batch.ts';
import { VENTAS_COLUMNS } from './rows.ts';

const florAmarillo = DEFAULT_STORES.find((s) => s.id === 'tienda_11')!;
const column = (batch: AnswerBatch, name: string) => {
  const at = VENTAS_COLUMNS.findIndex(([n]) => n === name);
  return Buffer.concat(batch.copyText()).toString().split('\n').slice(0, -1).map((row) => row.split('\t')[at]);
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
