import { describe, expect, it } from 'vitest';
import { checkEcho, type EchoedRequest } from './meta.ts';

const metaContradiction = (meta: KlkMeta, request: EchoedRequest) => checkEcho(meta, request).contradiction;
import type { KlkMeta } from './schema.ts';

const wholeDays: EchoedRequest = {
  sucursal: 'SUC001',
  almacen: 'APP-TPF',
  window: { fechaDesde: '2026-01-10', fechaHasta: '2026-01-11' },
};
const hours: EchoedRequest = {
  ...wholeDays,
  window: { fechaDesde: '2026-01-12', fechaHasta: '2026-01-12', horaDesde: '10:00:00', horaHasta: '23:59:59' },
};

function meta(fields: Partial<KlkMeta> = {}): KlkMeta {
  return {
    sucursal_codigo: 'SUC001',
    fecha_desde: '2026-01-10',
    fecha_hasta: '2026-01-11',
    hora_desde: '',
    hora_hasta: '',
    CodArticulo: '',
    almacen: 'APP-TPF',
    total_registros: 0,
    ...fields,
  };
}

describe('metaContradiction', () => {
  it('accepts the echo of the request in its usual spellings', () => {
    const echoes: KlkMeta[] = [
      meta(),
      meta({ hora_desde: '00:00:00', hora_hasta: '23:59:59' }),
      meta({ hora_desde: '00:00', hora_hasta: null, CodArticulo: null }),
      meta({ hora_desde: undefined, hora_hasta: undefined, CodArticulo: undefined }),
      meta({ fecha_desde: '2026-01-10T00:00:00', fecha_hasta: ' 2026-01-11 ', sucursal_codigo: 'SUC001 ' }),
    ];
    for (const echo of echoes) expect(metaContradiction(echo, wholeDays)).toBeNull();
    expect(
      metaContradiction(
        meta({ fecha_desde: '2026-01-12', fecha_hasta: '2026-01-12', hora_desde: '10:00', hora_hasta: '23:59:59' }),
        hours,
      ),
    ).toBeNull();
  });

  it('names the first field that answers another question', () => {
    const cases: Array<[KlkMeta, EchoedRequest, string]> = [
      [meta({ sucursal_codigo: 'SUC002' }), wholeDays, 'meta.sucursal_codigo es "SUC002" y se pidió "SUC001"'],
      [meta({ fecha_desde: '2026-01-09' }), wholeDays, 'meta.fecha_desde es "2026-01-09" y se pidió "2026-01-10"'],
      [meta({ fecha_hasta: '2026-01-10' }), wholeDays, 'meta.fecha_hasta es "2026-01-10" y se pidió "2026-01-11"'],
      [meta({ almacen: 'APP-PPF' }), wholeDays, 'meta.almacen es "APP-PPF" y se pidió "APP-TPF"'],
      [meta({ almacen: '' }), wholeDays, 'meta.almacen viene vacío y se pidió "APP-TPF": KLK no aplicó el filtro'],
      [meta({ hora_desde: '08:00:00' }), wholeDays, 'meta.hora_desde es "08:00:00" y no se envió ese filtro'],
      [meta({ hora_hasta: '23:59' }), wholeDays, 'meta.hora_hasta es "23:59" y no se envió ese filtro'],
      [meta({ CodArticulo: '000123' }), wholeDays, 'meta.CodArticulo es "000123" y no se envió ese filtro'],
      [
        meta({ fecha_desde: '2026-01-12', fecha_hasta: '2026-01-12', hora_desde: '', hora_hasta: '23:59:59' }),
        hours,
        'meta.hora_desde viene vacío y se pidió "10:00:00": KLK no aplicó el filtro',
      ],
      [
        meta({ fecha_desde: '2026-01-12', fecha_hasta: '2026-01-12', hora_desde: '11:00:00', hora_hasta: '23:59:59' }),
        hours,
        'meta.hora_desde es "11:00:00" y se pidió "10:00:00"',
      ],
    ];
    for (const [echo, request, message] of cases) expect(metaContradiction(echo, request)).toBe(message);
  });

  it('takes an echo that leaves a sent filter out as silence: no contradiction, but no proof either', () => {
    expect(checkEcho(meta(), wholeDays)).toEqual({ contradiction: null, complete: true });
    expect(checkEcho(meta({ almacen: undefined }), wholeDays)).toEqual({ contradiction: null, complete: false });
    const hoursOut = meta({
      fecha_desde: '2026-01-12',
      fecha_hasta: '2026-01-12',
      hora_desde: undefined,
      hora_hasta: undefined,
    });
    expect(checkEcho(hoursOut, hours)).toEqual({ contradiction: null, complete: false });
    // Not sent and not echoed: nothing to prove.
    expect(
      checkEcho(meta({ hora_desde: undefined, hora_hasta: undefined, CodArticulo: undefined }), wholeDays).complete,
    ).toBe(true);
  });

  it('expects an empty almacen echo when no warehouse was sent', () => {
    const noWarehouse: EchoedRequest = { sucursal: 'SUC001', window: wholeDays.window };
    expect(metaContradiction(meta({ almacen: '' }), noWarehouse)).toBeNull();
    expect(metaContradiction(meta({ almacen: 'APP-TPF' }), noWarehouse)).toBe(
      'meta.almacen es "APP-TPF" y no se envió ese filtro',
    );
  });
});
