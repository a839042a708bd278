import { describe, expect, it } from 'vitest';
import { renderBackfillSummary } from './render.ts';
import type { BackfillSummary } from './run.ts';

const summary: BackfillSummary = {
  backfillId: 4,
  status: 'partial',
  chunks: { total: 30, done: 8, failed: 22 },
  storeDays: 90,
  rowsInserted: 12_345,
  rowsUpdated: 0,
  rowsDeleted: 0,
  duplicatesInSource: 2,
  quarantined: 1,
  seconds: 75.4,
  before: { expectedStoreDays: 100, missingStoreDays: 40, partialStoreDays: 2 },
  after: { expectedStoreDays: 100, missingStoreDays: 30, partialStoreDays: 0 },
};

describe('renderBackfillSummary', () => {
  it('says the outcome in Spanish, lists the failed chunks with their error, and the command that resumes', () => {
    const failed = Array.from({ length: 22 }, (_, i) => ({
      storeId: 'tienda_07',
      dayFrom: `2026-01-${String(i + 1).padStart(2, '0')}`,
      dayTo: `2026-01-${String(i + 1).padStart(2, '0')}`,
      error: 'KLK respondió HTTP 500',
    }));
    failed[0] = { ...failed[0]!, dayTo: '2026-01-03', error: null as unknown as string };
    const text = renderBackfillSummary(summary, { resumeCommand: 'npx ventas backfill --resume', failed });
    expect(text).toContain('Backfill #4: parcial en 1 min 15 s');
    expect(text).toContain('Bloques: 8 de 30 hechos, 22 fallidos');
    expect(text).toContain(
      'Bloques fallidos:\n  tienda_07 2026-01-01 a 2026-01-03: sin detalle\n  tienda_07 2026-01-02: KLK respondió HTTP 500',
    );
    expect(text).toContain('  … y 2 más');
    expect(text).toContain('Quedan 30 días-tienda sin completar.');
    expect(text.split('\n').at(-1)).toBe('Para reanudar lo que faltó: npx ventas backfill --resume');
  });
});
