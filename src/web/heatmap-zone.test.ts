import { describe, expect, it } from 'vitest';
import { DEFAULT_STORES, type Store } from '../catalogue/stores.ts';
import { buildCoverage } from '../coverage/report.ts';
import { inputFor } from '../../test/fixtures/seed.ts';
import { history } from '../../test/support/store-days.ts';
import { toHeatmap } from './heatmap.ts';

function report(stores: readonly Store[]) {
  return buildCoverage(
    inputFor(history({ stores, from: '2025-11-01', to: '2025-12-28' }), {
      stores,
      from: '2025-12-22',
      to: '2025-12-28',
    }),
  );
}

describe('toHeatmap', () => {
  it('names the zone of the window’s stores, for the times the page shows', () => {
    const bogota = DEFAULT_STORES.slice(0, 2).map((s) => ({ ...s, timeZone: 'America/Bogota' }));
    expect(toHeatmap(report(bogota), [...DEFAULT_STORES.slice(2), ...bogota]).timeZone).toBe('America/Bogota');
    expect(toHeatmap(report(DEFAULT_STORES.slice(0, 2)), DEFAULT_STORES).timeZone).toBe('America/Caracas');
  });
});
