import type { CoverageTotals } from '../coverage/index.ts';
import { int, seconds } from '../shared/format.ts';
import type { Chunk } from './ledger.ts';
import type { BackfillSummary } from './run.ts';

/** A backfill's status as the users read it. */
export const BACKFILL_STATUS = { complete: 'completo', partial: 'parcial', failed: 'fallido', cancelled: 'cancelado' } as const;

/** Coverage before and after, side by side. */
export function renderBeforeAfter(before: CoverageTotals, after: CoverageTotals): string {
  const row = (label: string, a: number, b: number) => `  ${label.padEnd(26)} ${int(a).padStart(9)} ${int(b).padStart(9)}`;
  return [
    `  ${'Cobertura'.padEnd(26)} ${'antes'.padStart(9)} ${'después'.padStart(9)}`,
    row('Días-tienda esperados', before.expectedStoreDays, after.expectedStoreDays),
    row('Faltantes', before.missingStoreDays, after.missingStoreDays),
    row('Parciales', before.partialStoreDays, after.partialStoreDays),
  ].join('\n');
}

/** Failed chunks listed one per line; past this many only their count. */
const MAX_LISTED_FAILURES = 20;

/** The end of a backfill for people: outcome, rows, before/after, the verdict on coverage and what failed. */
export function renderBackfillSummary(
  summary: BackfillSummary,
  options: { resumeCommand: string; failed?: ReadonlyArray<Pick<Chunk, 'storeId' | 'dayFrom' | 'dayTo'> & { error: string | null }> },
): string {
  const c = summary.chunks;
  const lines = [
    `Backfill #${summary.backfillId}: ${BACKFILL_STATUS[summary.status]} en ${seconds(summary.seconds * 1000)}`,
    `  Bloques: ${int(c.done)} de ${int(c.total)} hechos, ${int(c.failed)} fallidos · ${int(summary.storeDays)} días-tienda`,
    `  Filas: ${int(summary.rowsInserted)} insertadas, ${int(summary.rowsUpdated)} actualizadas, ${int(summary.rowsDeleted)} borradas · duplicados en origen ${int(summary.duplicatesInSource)} · en cuarentena ${int(summary.quarantined)}`,
    renderBeforeAfter(summary.before, summary.after),
  ];
  const gaps = summary.after.missingStoreDays + summary.after.partialStoreDays;
  lines.push(
    gaps === 0
      ? `Verificado: los ${int(summary.after.expectedStoreDays)} días-tienda esperados están completos.`
      : `Quedan ${int(gaps)} días-tienda sin completar.`,
  );
  const failed = options.failed ?? [];
  if (failed.length > 0) {
    lines.push('Bloques fallidos:');
    for (const f of failed.slice(0, MAX_LISTED_FAILURES)) {
      const days = f.dayFrom === f.dayTo ? f.dayFrom : `${f.dayFrom} a ${f.dayTo}`;
      lines.push(`  ${f.storeId} ${days}: ${f.error ?? 'sin detalle'}`);
    }
    if (failed.length > MAX_LISTED_FAILURES) lines.push(`  … y ${int(failed.length - MAX_LISTED_FAILURES)} más`);
  }
  if (summary.status === 'cancelled') lines.push('Cancelado (ventas runs cancel): lo que quedaba pendiente no se ejecuta.');
  else if (summary.status !== 'complete') lines.push(`Para reanudar lo que faltó: ${options.resumeCommand}`);
  return lines.join('\n');
}
