import type { CoverageTotals } from '../coverage/index.ts';
import type { PlanJson } from '../plan/index.ts';
import { resumeCommand } from '../runs/ref.ts';
import { renderPlanTable } from '../plan/render-table.ts';
import { count, int, seconds } from '../shared/format.ts';
import type { Chunk, RemainingChunk } from './ledger.ts';
import type { BackfillSummary, ResumePreview } from './run.ts';

/** A backfill's status as the users read it. */
export const BACKFILL_STATUS = {
  running: 'en curso',
  complete: 'completo',
  partial: 'parcial',
  failed: 'fallido',
  interrupted: 'interrumpido',
  cancelled: 'cancelado',
} as const;

/** Coverage before and after, side by side. */
export function renderBeforeAfter(before: CoverageTotals, after: CoverageTotals): string {
  const row = (label: string, a: number, b: number) =>
    `  ${label.padEnd(26)} ${int(a).padStart(9)} ${int(b).padStart(9)}`;
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
  options: {
    resumeCommand: string;
    failed?: ReadonlyArray<Pick<Chunk, 'storeId' | 'dayFrom' | 'dayTo'> & { error: string | null }>;
    /** Of the store-days left, those KLK answered with 0 lines that do not prove them empty yet. */
    unprovenEmpty?: number;
  },
): string {
  const c = summary.chunks;
  const lines = [
    `Backfill #${summary.backfillId}: ${BACKFILL_STATUS[summary.status]} en ${seconds(summary.seconds * 1000)}`,
    `  Bloques: ${int(c.done)} de ${int(c.total)} ${c.total === 1 ? 'hecho' : 'hechos'}, ${count(c.failed, 'fallido', 'fallidos')} · ${count(summary.storeDays, 'día-tienda', 'días-tienda')}`,
    `  Filas: ${int(summary.rowsInserted)} insertadas, ${int(summary.rowsUpdated)} actualizadas, ${int(summary.rowsDeleted)} borradas · duplicados en origen ${int(summary.duplicatesInSource)} · en cuarentena ${int(summary.quarantined)}`,
    renderBeforeAfter(summary.before, summary.after),
  ];
  const gaps = summary.after.missingStoreDays + summary.after.partialStoreDays;
  lines.push(
    gaps === 0
      ? `Verificado: ${summary.after.expectedStoreDays === 1 ? 'el día-tienda esperado está completo' : `los ${int(summary.after.expectedStoreDays)} días-tienda esperados están completos`}.`
      : `${gaps === 1 ? 'Queda 1 día-tienda' : `Quedan ${int(gaps)} días-tienda`} sin completar` +
          (options.unprovenEmpty
            ? ` (${int(options.unprovenEmpty)} con 0 líneas de KLK que aún no prueban un día sin ventas: \`npx ventas gaps\` dice por qué).`
            : '.'),
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
  if (summary.status === 'cancelled')
    lines.push('Cancelado (ventas runs cancel): lo que quedaba pendiente no se ejecuta.');
  else if (summary.status !== 'complete') lines.push(`Para reanudar lo que faltó: ${options.resumeCommand}`);
  return lines.join('\n');
}

const DRY_RUN_NOTE = '(simulación: no se escribió nada)';

/**
 * What a dry run would do, for people or (`json`) machines: the plan it would execute, or, for `--resume`, the
 * backfill it would take up and its chunks still to do.
 */
export function renderDryRun(
  dry: { plan: PlanJson | null; resumePreview?: ResumePreview },
  options: { json: boolean },
): string {
  if (dry.resumePreview)
    return options.json ? JSON.stringify(resumePreviewJson(dry.resumePreview)) : renderResumePreview(dry.resumePreview);
  return options.json ? JSON.stringify(dry.plan) : `${renderPlanTable(dry.plan!)}\n${DRY_RUN_NOTE}`;
}

/** `--resume --dry-run --format json`: the backfill (its id as `runId`, as in its summary) and the chunks left. */
export function resumePreviewJson(p: ResumePreview) {
  const t = p.totals;
  return {
    runId: p.backfillId,
    status: p.status,
    from: p.params.from,
    to: p.params.to,
    stores: p.params.stores,
    chunks: { total: t.total, done: t.done, failed: t.failed, pending: t.pending, running: t.running },
    storeDaysLeft: t.storeDays - t.storeDaysDone,
    remaining: p.remaining.map((c) => ({
      store: c.storeId,
      from: c.dayFrom,
      to: c.dayTo,
      state: c.state,
      attempts: c.attempts,
      error: c.error,
    })),
  };
}

const CHUNK_STATE: Record<string, string> = { pending: 'pendiente', running: 'en curso', failed: 'fallido' };

function describeRemaining(c: RemainingChunk): string {
  if (c.state === 'failed')
    return `fallido tras ${count(c.attempts, 'intento', 'intentos')}, se reintenta: ${c.error ?? 'sin detalle'}`;
  if (c.state === 'running')
    return c.held
      ? 'en curso en otro proceso: se espera a que termine'
      : 'quedó en curso en un proceso que ya no está: se retoma';
  return CHUNK_STATE[c.state] ?? c.state;
}

function renderResumePreview(p: ResumePreview): string {
  const t = p.totals;
  const left = t.pending + t.running + t.failed;
  const lines = [
    `Backfill #${p.backfillId} (${p.params.from} a ${p.params.to}, ${count(p.params.stores.length, 'tienda', 'tiendas')}, ${BACKFILL_STATUS[p.status]}): ` +
      `al reanudarlo quedan ${int(left)} de ${count(t.total, 'bloque', 'bloques')}, ${count(t.storeDays - t.storeDaysDone, 'día-tienda', 'días-tienda')}.`,
  ];
  for (const c of p.remaining.slice(0, MAX_LISTED_FAILURES)) {
    const days = c.dayFrom === c.dayTo ? c.dayFrom : `${c.dayFrom} a ${c.dayTo}`;
    lines.push(`  ${c.storeId.padEnd(10)} ${days.padEnd(24)} ${describeRemaining(c)}`);
  }
  if (p.remaining.length > MAX_LISTED_FAILURES)
    lines.push(`  … y ${int(p.remaining.length - MAX_LISTED_FAILURES)} más`);
  lines.push(`${DRY_RUN_NOTE}. Para reanudarlo: ${resumeCommand(p.backfillId)}`);
  return lines.join('\n');
}
