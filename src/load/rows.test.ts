import { describe, expect, it } from 'vitest';
import { DEFAULT_STORES } from '../catalogue/stores.ts';
import { klkLine } from '../../test/fixtures/klk-line.ts';
import { lineToRow, toCopyLine, VENTAS_COLUMNS } from './rows.ts';

const florAmarillo = DEFAULT_STORES.find((s) => s.id === 'tienda_11')!;

function nested(key: 'cantidad' | 'financiero' | 'producto', values: Record<string, unknown>) {
  const base = klkLine()[key] as Record<string, unknown>[];
  return { [key]: [{ ...base[0], ...values }] };
}

describe('lineToRow', () => {
  it('maps a KLK line to the Fluxion row, keyed by invoice and line', () => {
    const result = lineToRow(klkLine(), florAmarillo);
    expect(result).toEqual({
      ok: true,
      row: {
        numero_factura: 'C10-01-00008064_L1',
        fecha_venta: '2026-01-12 10:15:30.123456',
        ubicacion_id: 'tienda_11',
        almacen_codigo: 'TFAMA',
        almacen_nombre: 'PISO DE VENTA',
        producto_id: '000123',
        cantidad_vendida: 2,
        peso_unitario: 1.05,
        peso_calculado: 2.1,
        total_cantidad_por_unidad_medida: 2,
        unidad_medida_venta: 'UNIDAD',
        factor_unidad_medida: 1,
        precio_unitario: 1,
        costo_unitario: 0.7633,
        venta_total: 2,
        costo_total: 1.5266,
        utilidad_bruta: 0.4734,
        margen_bruto_pct: 23.67,
      },
    });
  });

  it('keeps the last instant of the day in that day (seven digits truncated, not rounded)', () => {
    const result = lineToRow(klkLine({ hora: '23:59:59.9999999' }), florAmarillo);
    expect(result.ok && result.row.fecha_venta).toBe('2026-01-12 23:59:59.999999');
  });

  it('accepts numeric strings and a time without fraction', () => {
    const result = lineToRow(
      klkLine({ linea: '7', hora: '08:00:00', ...nested('financiero', { venta_total_usd: '3.5' }) }),
      florAmarillo,
    );
    expect(result.ok && [result.row.numero_factura, result.row.fecha_venta, result.row.venta_total]).toEqual([
      'C10-01-00008064_L7',
      '2026-01-12 08:00:00',
      3.5,
    ]);
  });

  it('derives weight and unit totals, and a zero margin when nothing was sold for money', () => {
    const weighed = lineToRow(
      klkLine({
        ...nested('cantidad', {
          cantidad_vendida: 0.75,
          peso_unitario: 1,
          factor_unidad_medida: 1000,
          unidad_medida_venta: 'KG',
        }),
        ...nested('financiero', { venta_total_usd: 0, utilidad_bruta_usd: -0.2 }),
      }),
      florAmarillo,
    );
    expect(
      weighed.ok && [
        weighed.row.peso_calculado,
        weighed.row.total_cantidad_por_unidad_medida,
        weighed.row.margen_bruto_pct,
      ],
    ).toEqual([0.75, 750, 0]);
  });

  it('clamps an extreme margin to what numeric(8,2) holds', () => {
    const result = lineToRow(
      klkLine(nested('financiero', { venta_total_usd: 0.0001, utilidad_bruta_usd: 5000 })),
      florAmarillo,
    );
    expect(result.ok && result.row.margen_bruto_pct).toBe(999999.99);
  });

  it.each([
    ['no invoice number', { numero_factura: '' }, 'numero_factura: falta el número de factura'],
    ['missing invoice number', { numero_factura: undefined }, 'numero_factura: falta o no es texto'],
    ['no line number', { linea: undefined }, 'linea: falta el número de línea'],
    ['line number zero', { linea: 0 }, 'linea: número de línea no positivo'],
    ['unparsable date', { fecha: '12/01/2026' }, 'fecha: fecha no interpretable (se espera YYYY-MM-DD)'],
    ['impossible date', { fecha: '2026-02-30' }, 'fecha: fecha inexistente'],
    ['unparsable time', { hora: '25:00:00' }, 'hora: hora no interpretable (se espera HH:MM:SS.fffffff)'],
    ['missing time', { hora: null }, 'hora: falta la hora'],
    [
      'non-numeric amount',
      nested('financiero', { venta_total_usd: 'N/A' }),
      'financiero.venta_total_usd: no es numérico',
    ],
    [
      'non-numeric quantity',
      nested('cantidad', { cantidad_vendida: null }),
      'cantidad.cantidad_vendida: no es numérico',
    ],
    ['no product', { producto: [] }, 'producto: falta el producto'],
  ])('rejects a line with %s, saying why', (_label, overrides, reason) => {
    const result = lineToRow(klkLine(overrides), florAmarillo);
    expect(result).toMatchObject({ ok: false, reason });
  });

  it("rejects another warehouse's line and names both warehouses", () => {
    const result = lineToRow(klkLine({}, 'TFAMA-PPF'), florAmarillo);
    expect(result).toMatchObject({
      ok: false,
      reason: 'otro almacén: TFAMA-PPF (la tienda vende por TFAMA)',
      linea: '1',
    });
  });

  it('rejects amounts that numeric(18,4) cannot hold', () => {
    const result = lineToRow(klkLine(nested('financiero', { venta_total_usd: 1e15 })), florAmarillo);
    expect(result).toMatchObject({ ok: false, reason: 'importe fuera de rango para numeric(18,4)' });
  });

  it('rejects what is not an object at all', () => {
    expect(lineToRow('hola', florAmarillo).ok).toBe(false);
    expect(lineToRow(null, florAmarillo).ok).toBe(false);
  });
});

describe('toCopyLine', () => {
  it('writes the row as one COPY text line in column order, escaping what COPY would read as structure', () => {
    const result = lineToRow(klkLine(nested('cantidad', { nombre_almacen: 'A\tB\nC\\D\rE' })), florAmarillo);
    if (!result.ok) throw new Error(result.reason);
    const line = toCopyLine(result.row);
    expect(line.endsWith('\n')).toBe(true);
    const fields = line.slice(0, -1).split('\t');
    expect(fields).toHaveLength(VENTAS_COLUMNS.length);
    expect(fields[0]).toBe('C10-01-00008064_L1');
    expect(fields[4]).toBe('A\\tB\\nC\\\\D\\rE');
    const amount = (v: number) => toCopyLine({ ...result.row, venta_total: v }).split('\t')[14];
    // Four decimals or fewer from the integer count of ten-thousandths; anything else as JavaScript writes it.
    expect([-12.5, 0.1 + 0.2, 0, -0, 1.5108, 123456789.0001].map(amount)).toEqual([
      '-12.5',
      '0.3',
      '0',
      '0',
      '1.5108',
      '123456789.0001',
    ]);
    expect([1.23455, 1e-7, 1e20].map(amount)).toEqual(['1.23455', '1e-7', '100000000000000000000']);
  });
});

describe('lines that would not fit their columns', () => {
  it.each([
    [
      'a product code longer than varchar(50)',
      nested('producto', { codigo_producto: 'P'.repeat(51) }),
      'producto_id: más de 50 caracteres',
    ],
    [
      'a unit longer than varchar(20)',
      nested('cantidad', { unidad_medida_venta: 'U'.repeat(21) }),
      'unidad_medida_venta: más de 20 caracteres',
    ],
    [
      'an invoice whose key passes varchar(100)',
      { numero_factura: 'F'.repeat(98) },
      'numero_factura: más de 100 caracteres',
    ],
    [
      'a derived weight beyond numeric(18,4)',
      nested('cantidad', { cantidad_vendida: 1e8, peso_unitario: 1e7 }),
      'importe fuera de rango para numeric(18,4)',
    ],
  ])('quarantines %s instead of failing the load', (_label, overrides, reason) => {
    expect(lineToRow(klkLine(overrides), florAmarillo)).toMatchObject({ ok: false, reason });
  });

  it('counts characters, not UTF-16 units, against varchar', () => {
    const emoji = '🚀'.repeat(50);
    expect(lineToRow(klkLine(nested('producto', { codigo_producto: emoji })), florAmarillo)).toMatchObject({
      ok: true,
    });
  });
});

describe('lineToRow: text PostgreSQL cannot store', () => {
  const product = (values: Record<string, unknown>) => nested('producto', values);
  it.each([
    [
      'a NUL in a product description',
      product({ descripcion_producto: 'HARINA\u0000PAN' }),
      'producto[0].descripcion_producto contiene un carácter nulo (U+0000)',
    ],
    [
      'a NUL in the warehouse name (a loaded column)',
      nested('cantidad', { nombre_almacen: 'PISO\u0000' }),
      'cantidad[0].nombre_almacen contiene un carácter nulo (U+0000)',
    ],
    [
      'a lone high surrogate',
      product({ descripcion_producto: 'HARINA \ud800' }),
      'producto[0].descripcion_producto contiene un sustituto UTF-16 suelto (U+D800)',
    ],
    [
      'a lone low surrogate',
      nested('cantidad', { unidad_medida_venta: '\udc00UNIDAD' }),
      'cantidad[0].unidad_medida_venta contiene un sustituto UTF-16 suelto (U+DC00)',
    ],
    [
      'a pair in the wrong order',
      product({ marca_producto: '\ude00\ud83d' }),
      'producto[0].marca_producto contiene un sustituto UTF-16 suelto (U+DE00)',
    ],
    [
      'a high surrogate before another high one',
      { codigo_promocion: '\udbff\udbff\udc00' },
      'codigo_promocion contiene un sustituto UTF-16 suelto (U+DBFF)',
    ],
    [
      'a NUL in the product code',
      product({ codigo_producto: '\u0000123' }),
      'producto[0].codigo_producto contiene un carácter nulo (U+0000)',
    ],
    [
      'a NUL in a field the loader does not read',
      { fecha_hora_completa: '\u0000' },
      'fecha_hora_completa contiene un carácter nulo (U+0000)',
    ],
    [
      'a NUL in a field name',
      product({ 'marca\u0000': 'PAN' }),
      'el nombre de campo "marca\\u0000" en producto[0] contiene un carácter nulo (U+0000)',
    ],
  ])('rejects %s, naming the field', (_label, overrides, reason) => {
    expect(lineToRow(klkLine(overrides), florAmarillo)).toEqual({
      ok: false,
      reason,
      numeroFactura: 'C10-01-00008064',
      linea: '1',
    });
  });

  it('rejects a line whose invoice or line number is poisoned without keeping that key (it could not be stored)', () => {
    expect(lineToRow(klkLine({ numero_factura: 'C10\u0000' }), florAmarillo)).toEqual({
      ok: false,
      reason: 'numero_factura contiene un carácter nulo (U+0000)',
      numeroFactura: undefined,
      linea: '1',
    });
    expect(lineToRow(klkLine({ linea: '\ud800' }), florAmarillo)).toMatchObject({
      ok: false,
      reason: 'linea contiene un sustituto UTF-16 suelto (U+D800)',
      numeroFactura: 'C10-01-00008064',
      linea: undefined,
    });
  });

  it('loads a valid surrogate pair (an emoji) unchanged, also through the COPY text', () => {
    const result = lineToRow(
      klkLine({ ...nested('cantidad', { nombre_almacen: 'PISO 🛒' }), codigo_promocion: '😀' }),
      florAmarillo,
    );
    expect(result.ok).toBe(true);
    const row = (result as { row: Record<string, unknown> }).row;
    expect(row.almacen_nombre).toBe('PISO 🛒');
    expect(
      Buffer.from(toCopyLine(row as never))
        .toString('utf8')
        .split('\t')[4],
    ).toBe('PISO 🛒');
  });
});
