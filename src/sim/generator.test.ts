import { describe, expect, it } from 'vitest';
import { DEFAULT_STORES, type Store } from '../catalogue/stores.ts';
import { generateDay, plannedLines, storeBySucursal, truthDays, type KlkLine, type SimWorld } from './generator.ts';

const NOW = new Date('2026-06-01T12:00:00Z');
const world = (extra: Partial<SimWorld> = {}): SimWorld => ({ seed: 1, scale: 0.05, now: NOW, ...extra });
const clock = (line: KlkLine) => line.hora.slice(0, 8);
/** The USD total of lines in integer ten-thousandths, as numeric(18,4) would add them. */
const usd4 = (lines: KlkLine[]) =>
  lines.reduce((sum, l) => sum + Math.round(l.financiero[0].venta_total_usd * 10_000), 0);

describe('generator: determinism', () => {
  it('gives the same lines for the same seed and different ones for another seed', () => {
    const a = generateDay(world(), 'SUC012', '2026-01-12');
    const b = generateDay(world(), 'SUC012', '2026-01-12');
    const c = generateDay(world({ seed: 2 }), 'SUC012', '2026-01-12');
    expect(a.length).toBeGreaterThan(0);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(JSON.stringify(c)).not.toBe(JSON.stringify(a));
  });

  it('generates a day alone: the same whatever was generated before', () => {
    const first = generateDay(world(), 'SUC007', '2026-01-14');
    generateDay(world(), 'SUC012', '2026-01-13');
    generateDay(world({ seed: 9 }), 'SUC007', '2026-01-14');
    expect(generateDay(world(), 'SUC007', '2026-01-14')).toEqual(first);
  });
});

describe('generator: line shape', () => {
  const lines = generateDay(world({ scale: 0.2 }), 'SUC012', '2026-01-13');

  it('writes every field in KLK format', () => {
    for (const l of lines) {
      expect(l.numero_factura).toMatch(/^C\d{2}-01-\d{8}$/);
      expect(l.fecha).toBe('2026-01-13');
      expect(l.hora).toMatch(/^\d{2}:\d{2}:\d{2}\.\d{7}$/);
      expect(l.fecha_hora_completa).toBe(`${l.fecha}T${clock(l)}`);
      expect(l.producto).toHaveLength(1);
      expect(l.cantidad).toHaveLength(1);
      expect(l.financiero).toHaveLength(1);
      expect(l.producto[0].codigo_producto).toMatch(/^\d{8}$/);
      expect(l.cantidad[0].cantidad_vendida).toBeGreaterThan(0);
      expect(typeof l.es_no_fiscal).toBe('boolean');
      expect(typeof l.tiene_promocion).toBe('boolean');
      expect(Object.keys(l.financiero[0])).toHaveLength(18);
      expect(Object.keys(l.producto[0])).toHaveLength(11);
      expect(Object.keys(l.cantidad[0])).toHaveLength(10);
    }
  });

  it('keeps prices net of tax in Bs and USD at the day rate, with a separate USD cost', () => {
    for (const l of lines) {
      const f = l.financiero[0];
      expect(f.precio_unitario_usd).toBeCloseTo(f.precio_unitario_bs / l.tasa_usd, 4);
      expect(f.venta_total_usd).toBeCloseTo(f.venta_total_bs / l.tasa_usd, 4);
      expect([0, 16]).toContain(f.impuesto_porcentaje);
      expect(f.impuesto_monto).toBeCloseTo((f.venta_total_bs * f.impuesto_porcentaje) / 100, 1);
      expect(f.utilidad_bruta_usd).toBeCloseTo(f.venta_total_usd - f.costo_total_usd, 4);
      expect(l.tasa_usd).toBeGreaterThan(200);
      expect(l.tasa_usd).toBeLessThan(270);
    }
    expect(lines.some((l) => l.financiero[0].utilidad_bruta_usd < 0)).toBe(true);
    expect(lines.some((l) => l.financiero[0].monto_descuento > 0)).toBe(true);
  });

  it('sells weighed goods by the kilo with fractional quantities', () => {
    const kg = lines.filter((l) => l.cantidad[0].unidad_medida_venta === 'KG');
    expect(kg.length).toBeGreaterThan(0);
    expect(kg.some((l) => !Number.isInteger(l.cantidad[0].cantidad_vendida))).toBe(true);
  });

  it('numbers the lines of each invoice 1..n and totals the invoice on every line', () => {
    const byInvoice = new Map<string, KlkLine[]>();
    for (const l of lines) byInvoice.set(l.numero_factura, [...(byInvoice.get(l.numero_factura) ?? []), l]);
    for (const invoiceLines of byInvoice.values()) {
      expect(invoiceLines.map((l) => l.linea)).toEqual(invoiceLines.map((_, i) => i + 1));
      expect(invoiceLines.length).toBeLessThanOrEqual(15);
      const total = invoiceLines.reduce(
        (sum, l) => sum + l.financiero[0].venta_total_bs + l.financiero[0].impuesto_monto,
        0,
      );
      for (const l of invoiceLines) expect(l.total_factura).toBeCloseTo(total, 1);
      expect(new Set(invoiceLines.map((l) => l.hora)).size).toBe(1);
    }
  });

  it('puts about 3 % of lines in the second warehouse', () => {
    const second = lines.filter((l) => l.cantidad[0].codigo_almacen === 'TFAMA-PPF');
    expect(second.every((l) => l.cantidad[0].nombre_almacen === 'ALMACEN PRINCIPAL')).toBe(true);
    expect(lines.filter((l) => l.cantidad[0].codigo_almacen === 'TFAMA').length + second.length).toBe(lines.length);
    expect(second.length / lines.length).toBeGreaterThan(0.01);
    expect(second.length / lines.length).toBeLessThan(0.06);
  });
});

describe('generator: invoices', () => {
  const sequence = (l: KlkLine) => Number(l.numero_factura.slice(-8));

  it('numbers invoices upwards through the day and across days', () => {
    const day1 = generateDay(world(), 'SUC001', '2026-01-13');
    const day2 = generateDay(world(), 'SUC001', '2026-01-14');
    const seqs = day1.map(sequence);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(day1.map(clock)).toEqual(day1.map(clock).sort());
    expect(Math.min(...day2.map(sequence))).toBeGreaterThan(Math.max(...seqs));
  });

  it('repeats invoice numbers across stores (unique only within a store)', () => {
    const a = new Set(generateDay(world(), 'SUC001', '2026-01-13').map((l) => l.numero_factura));
    const b = generateDay(world(), 'SUC007', '2026-01-13').map((l) => l.numero_factura);
    expect(b.filter((n) => a.has(n)).length).toBeGreaterThan(0);
  });
});

describe('generator: calendar and volume', () => {
  it('has no sales on closed days, before an opening or on a store closed day', () => {
    expect(generateDay(world(), 'SUC001', '2025-12-25')).toEqual([]);
    expect(generateDay(world(), 'SUC001', '2026-01-01')).toEqual([]);
    expect(generateDay(world(), 'SUC004', '2025-12-05')).toEqual([]);
    expect(generateDay(world(), 'SUC004', '2025-12-06').length).toBeGreaterThan(0);
    const stores: Store[] = DEFAULT_STORES.map((s) =>
      s.id === 'tienda_02' ? { ...s, closedDays: ['2026-01-15'] } : s,
    );
    expect(generateDay(world({ stores }), 'SUC007', '2026-01-15')).toEqual([]);
    expect(generateDay(world({ stores }), 'SUC007', '2026-01-14').length).toBeGreaterThan(0);
  });

  it('sells within opening hours, local time', () => {
    const bosque = generateDay(world({ scale: 0.1 }), 'SUC002', '2026-01-13').map(clock);
    expect(bosque.every((t) => t >= '08:00:00' && t <= '23:59:59')).toBe(true);
    expect(bosque.some((t) => t >= '21:00:00')).toBe(true);
    const periferico = generateDay(world({ scale: 0.1 }), 'SUC001', '2026-01-13').map(clock);
    expect(periferico.every((t) => t >= '07:00:00' && t < '21:00:00')).toBe(true);
  });

  it('has 6,000-16,000 lines per ordinary store-day at scale 1, FLOR AMARILLO among the biggest', () => {
    const scale1 = world({ scale: 1 });
    const counts = new Map<string, number>();
    for (const sucursal of ['SUC012', 'SUC001', 'SUC007', 'SUC019', 'SUC004', 'SUC002']) {
      for (const date of ['2026-01-13', '2026-01-14', '2026-01-15', '2026-02-05']) {
        const n = plannedLines(scale1, storeBySucursal(scale1, sucursal)!, date);
        expect(n).toBeGreaterThanOrEqual(6000);
        expect(n).toBeLessThanOrEqual(16000);
        counts.set(sucursal, (counts.get(sucursal) ?? 0) + n);
      }
    }
    expect(Math.max(...counts.values())).toBe(counts.get('SUC012'));
    const truth = truthDays(scale1, 'SUC012', '2026-01-13', '2026-01-13')[0]!;
    expect(truth.lineas).toBeGreaterThanOrEqual(plannedLines(scale1, storeBySucursal(scale1, 'SUC012')!, '2026-01-13'));
    expect(truth.lineas).toBeLessThan(16_000);
  });

  it('sells less on Sundays and more in December and on holiday eves', () => {
    const w = world({ scale: 1 });
    const n = (date: string) => plannedLines(w, storeBySucursal(w, 'SUC001')!, date);
    expect(n('2026-01-11')).toBeLessThan(0.85 * n('2026-01-14')); // Sunday vs Wednesday
    expect(n('2025-12-10')).toBeGreaterThan(1.15 * n('2026-01-14')); // a December Wednesday
    expect(n('2026-06-23')).toBeGreaterThan(1.2 * n('2026-06-16')); // eve of Batalla de Carabobo, both Tuesdays
  });

  it('scales volume: about 60-160 lines a day at scale 0.01', () => {
    const w = world({ scale: 0.01 });
    for (const s of DEFAULT_STORES) {
      const n = plannedLines(w, s, '2026-01-14');
      expect(n).toBeGreaterThanOrEqual(60);
      expect(n).toBeLessThanOrEqual(160);
    }
  });
});

describe('generator: filters, clock, voids and truth', () => {
  it('applies the hour window, inclusive, to the seconds of the stamp', () => {
    const all = generateDay(world(), 'SUC012', '2026-01-13');
    const window = generateDay(world(), 'SUC012', '2026-01-13', { horaDesde: '10:00', horaHasta: '12:30:15' });
    expect(window).toEqual(all.filter((l) => clock(l) >= '10:00:00' && clock(l) <= '12:30:15'));
    expect(generateDay(world(), 'SUC012', '2026-01-13', { horaDesde: '12:00', horaHasta: '08:00' })).toEqual([]);
  });

  it('filters by warehouse and by product', () => {
    const all = generateDay(world({ scale: 0.2 }), 'SUC012', '2026-01-13');
    const code = all[0]!.producto[0].codigo_producto;
    expect(generateDay(world({ scale: 0.2 }), 'SUC012', '2026-01-13', { codArticulo: code })).toEqual(
      all.filter((l) => l.producto[0].codigo_producto === code),
    );
    expect(generateDay(world({ scale: 0.2 }), 'SUC012', '2026-01-13', { almacen: 'TFAMA' })).toEqual(
      all.filter((l) => l.cantidad[0].codigo_almacen === 'TFAMA'),
    );
  });

  it('hides lines stamped after the sim clock (store local time)', () => {
    const now = new Date('2026-01-13T18:00:00Z'); // 14:00 in Caracas
    const today = generateDay(world({ now }), 'SUC012', '2026-01-13');
    expect(today.length).toBeGreaterThan(0);
    expect(today.every((l) => clock(l) <= '14:00:00')).toBe(true);
    expect(today).toEqual(generateDay(world(), 'SUC012', '2026-01-13', { horaHasta: '14:00:00' }));
    expect(generateDay(world({ now }), 'SUC012', '2026-01-14')).toEqual([]);
  });

  it('voids whole invoices: they vanish from lines and truth alike', () => {
    const all = generateDay(world(), 'SUC012', '2026-01-13');
    const kept = generateDay(world({ voidRate: 0.3 }), 'SUC012', '2026-01-13');
    const keys = new Set(all.map((l) => `${l.numero_factura}/${l.linea}`));
    expect(kept.length).toBeLessThan(all.length * 0.85);
    expect(kept.every((l) => keys.has(`${l.numero_factura}/${l.linea}`))).toBe(true);
    const keptInvoices = new Set(kept.map((l) => l.numero_factura));
    expect(kept).toEqual(all.filter((l) => keptInvoices.has(l.numero_factura)));
    expect(truthDays(world({ voidRate: 0.3 }), 'SUC012', '2026-01-13', '2026-01-13')[0]!.lineas).toBe(kept.length);
  });

  it('reports the truth per day: distinct lines and their exact USD sum', () => {
    const truth = truthDays(world(), 'SUC001', '2025-12-24', '2025-12-26', 'APP-TPF');
    expect(truth.map((d) => d.fecha)).toEqual(['2025-12-24', '2025-12-25', '2025-12-26']);
    for (const d of truth) {
      const lines = generateDay(world(), 'SUC001', d.fecha, { almacen: 'APP-TPF' });
      expect(d.lineas).toBe(lines.length);
      expect(Math.round(d.venta_total_usd * 10_000)).toBe(usd4(lines));
    }
    expect(truth[1]!.lineas).toBe(0);
  });

  it('refuses an unknown sucursal', () => {
    expect(() => generateDay(world(), 'SUC999', '2026-01-13')).toThrow(/SUC999/);
  });
});
