import { describe, expect, it } from 'vitest';
import { klkLine } from '../../test/fixtures/klk-line.ts';
import { klkLineSchema, parseWellFormedLine, rejectionReason } from './line.ts';

const base = klkLine();
const nested = (key: 'cantidad' | 'financiero' | 'producto', values: Record<string, unknown>) => ({
  [key]: [{ ...(base[key] as Record<string, unknown>[])[0], ...values }],
});

/** Lines near the edges of what the schema accepts: the shortcut must never disagree with it. */
const variants: Array<[string, Record<string, unknown>]> = [
  ['the usual line', klkLine()],
  ['an invoice number with spaces around it', klkLine({ numero_factura: '  C10-01-00008064 ' })],
  ['a blank invoice number', klkLine({ numero_factura: '   ' })],
  ['a numeric invoice number', klkLine({ numero_factura: 8064 })],
  ['a line number as text', klkLine({ linea: '3' })],
  ['a fractional line number', klkLine({ linea: 1.5 })],
  ['a line number beyond 2^53', klkLine({ linea: 2 ** 60 })],
  ['a time without fraction', klkLine({ hora: '08:00:00' })],
  ['a time with eight fraction digits', klkLine({ hora: '08:00:00.12345678' })],
  ['an impossible date', klkLine({ fecha: '2026-02-30' })],
  ['a date with a time', klkLine({ fecha: '2026-01-12T00:00:00' })],
  ['an amount as text', nested('financiero', { venta_total_usd: '3.5' })],
  ['an infinite amount', nested('financiero', { venta_total_usd: Infinity })],
  ['NaN as amount', nested('financiero', { costo_total_usd: Number.NaN })],
  [
    'null optional fields',
    nested('cantidad', {
      nombre_almacen: null,
      peso_unitario: null,
      unidad_medida_venta: undefined,
      factor_unidad_medida: null,
    }),
  ],
  ['a numeric warehouse name', nested('cantidad', { nombre_almacen: 7 })],
  ['an empty warehouse code', nested('cantidad', { codigo_almacen: '' })],
  ['two products, the second one broken', klkLine({ producto: [{ codigo_producto: '1' }, { codigo_producto: '' }] })],
  ['two products', klkLine({ producto: [{ codigo_producto: '1' }, { codigo_producto: '2' }] })],
  ['no amounts', klkLine({ financiero: [] })],
  ['amounts as an object, not a list', klkLine({ financiero: (base.financiero as object[])[0] })],
  ['a list instead of a line', [klkLine()] as unknown as Record<string, unknown>],
];

describe('parseWellFormedLine', () => {
  it.each(variants)('agrees with the schema on %s', (_label, raw) => {
    const fast = parseWellFormedLine(raw);
    const schema = klkLineSchema.safeParse(raw);
    if (fast === null) return; // the schema decides, whatever it says
    expect(schema.success).toBe(true);
    const full = schema.data!;
    expect(fast).toEqual({
      ...full,
      producto: [full.producto[0]],
      cantidad: [full.cantidad[0]],
      financiero: [full.financiero[0]],
    });
  });

  it('takes the shortcut for the lines KLK sends', () => {
    expect(parseWellFormedLine(klkLine())).not.toBeNull();
    expect(parseWellFormedLine(klkLine(nested('cantidad', { nombre_almacen: null })))).not.toBeNull();
  });
});

describe('rejectionReason', () => {
  it.each([
    [42, 'Entrada inválida: se esperaba objeto, recibido número'],
    ['x', 'Entrada inválida: se esperaba objeto, recibido texto'],
    [null, 'Entrada inválida: se esperaba objeto, recibido nulo'],
    [[1], 'Entrada inválida: se esperaba objeto, recibido arreglo'],
  ])('says in Spanish why %j is not a line', (raw, reason) => {
    const result = klkLineSchema.safeParse(raw);
    expect(result.success).toBe(false);
    expect(rejectionReason(result.error!)).toBe(reason);
  });
});
