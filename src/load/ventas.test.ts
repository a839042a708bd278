import { beforeEach, expect, it } from 'vitest';
import type { Db } from '../db/types.ts';
import { describeEachBackend } from '../../test/backends.ts';
import { hoursWithSales } from './ventas.ts';

describeEachBackend('hoursWithSales', (open) => {
  let db: Db;
  beforeEach(async () => {
    db = await open();
    await db.exec(`
      INSERT INTO ventas (numero_factura, fecha_venta, ubicacion_id) VALUES
        ('A_L1', '2026-01-12 15:59:59.999999', 'tienda_01'), ('A_L2', '2026-01-12 16:00:00', 'tienda_01'),
        ('A_L3', '2026-01-12 16:45:00', 'tienda_01'), ('A_L4', '2026-01-12 19:10:00', 'tienda_01'),
        ('A_L5', '2026-01-12 22:00:00', 'tienda_01'), ('B_L1', '2026-01-12 21:59:59', 'tienda_02'),
        ('C_L1', '2026-01-12 18:00:00', 'tienda_09')`);
    return () => db.close();
  });

  it('gives, for all the stores asked in one read, the hours from `from` up to `to` (excluded) in which each has rows', async () => {
    const hours = await hoursWithSales(
      db,
      ['tienda_01', 'tienda_02', 'tienda_03'],
      '2026-01-12 16:00:00',
      '2026-01-12 22:00:00',
    );
    expect(Object.fromEntries([...hours].map(([store, set]) => [store, [...set].sort()]))).toEqual({
      tienda_01: ['2026-01-12 16:00:00', '2026-01-12 19:00:00'],
      tienda_02: ['2026-01-12 21:00:00'],
    });
  });
});
