import { beforeEach, expect, it } from 'vitest';
import { DEFAULT_STORES } from '../catalogue/stores.ts';
import type { Db } from '../db/types.ts';
import { describeEachBackend } from '../../test/backends.ts';
import { klkLine } from '../../test/fixtures/klk-line.ts';
import { AnswerBatch } from './batch.ts';
import { listQuarantine } from './quarantine.ts';
import { loadBatch } from './upsert.ts';

const florAmarillo = DEFAULT_STORES.find((s) => s.id === 'tienda_11')!;
const manongo = { ...DEFAULT_STORES.find((s) => s.id === 'tienda_03')!, almacen: 'TFAMA' };

describeEachBackend('listQuarantine', (open) => {
  let db: Db;
  const load = async (store: typeof florAmarillo, from: string, to: string, lines: Array<Record<string, unknown>>, runId: number) => {
    const batch = new AnswerBatch(store, { fechaDesde: from, fechaHasta: to });
    for (const line of lines) batch.add(line);
    await db.transaction((tx) => loadBatch(tx, batch, { runId, wholeDays: true }));
  };
  const bad = (linea: number, fecha = '2026-01-12') => klkLine({ linea, fecha }, 'OTRO');

  beforeEach(async () => {
    db = await open();
    await load(florAmarillo, '2026-01-12', '2026-01-13', [bad(1), bad(2), bad(3, '2026-01-13'), klkLine({ linea: 4, fecha: 'ayer' }), klkLine({ linea: 5 })], 1);
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
    expect(lines.find((l) => l.line === '7')).toMatchObject({ reason: 'otro almacén: OTRO (la tienda vende por TFAMA)', raw: bad(7) });
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
