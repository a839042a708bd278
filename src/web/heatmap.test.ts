import { describe, expect, it } from 'vitest';
import { DEFAULT_STORES } from '../catalogue/stores.ts';
import { buildCoverage } from '../coverage/report.ts';
import { inputFor } from '../../test/fixtures/seed.ts';
import { history, setDay } from '../../test/support/store-days.ts';
import { toHeatmap } from './heatmap.ts';

describe('toHeatmap', () => {
  it('carries every state as a letter, the rejected lines per day, and the new and suspected new stores', () => {
    const stores = DEFAULT_STORES.filter((s) => ['tienda_01', 'tienda_11'].includes(s.id));
    const rows = history({
      stores,
      from: '2025-12-01',
      to: '2026-01-25',
      hole: (id, d) => (id === 'tienda_11' ? d < '2026-01-20' : d === '2026-01-22' || d === '2026-01-23'),
    });
    setDay(rows, 'tienda_01', '2026-01-22', { klkLines: 0, klkRejected: 570 });
    setDay(rows, 'tienda_01', '2026-01-21', { klkLines: 0, lines: 0, totalUsd: 0 });
    setDay(rows, 'tienda_01', '2026-01-20', { lines: 10 });
    // 1-28 January seen on the 26th at noon: 26-28 are future; 1 January is closed.
    const report = buildCoverage(inputFor(rows, { stores, from: '2026-01-01', to: '2026-01-28' }));
    const heatmap = toHeatmap(report, DEFAULT_STORES);
    const [periferico, flor] = heatmap.stores;
    expect(periferico!.states).toBe(`x${'c'.repeat(18)}permccfff`);
    expect(periferico!.rejected[21]).toBe(570);
    expect(periferico!.rejected.filter((n) => n > 0)).toHaveLength(1);
    expect(periferico).toMatchObject({
      rejectedDays: 1,
      missingDays: 1,
      partialDays: 1,
      isNew: false,
      suspectedNew: false,
    });
    expect(flor).toMatchObject({ store: 'tienda_11', isNew: false, suspectedNew: true });
    expect(heatmap.patterns.suspectedNewStores).toEqual(['tienda_11']);
    expect(heatmap.totals).toMatchObject({ rejectedStoreDays: 1, futureStoreDays: 6 });
  });
});
