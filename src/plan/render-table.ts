import { count, decimal, int } from '../shared/format.ts';
import type { PlanJson } from './json.ts';
import { describeEstimate, formatDuration } from './render.ts';

/** The plan at a glance on a terminal: one line per step, the totals, and how it compares with re-reading. */
export function renderPlanTable(plan: PlanJson): string {
  const t = plan.totals;
  const lines = [`Plan de backfill ${plan.from} a ${plan.to}`];
  if (plan.phases.length === 0) return `${lines[0]}\n  Nada que recuperar: ningún día esperado falta ni está parcial.`;
  const storesOf = (stores: readonly string[]) =>
    stores.length > 4 ? `${stores.slice(0, 4).join(' ')} (+${stores.length - 4})` : stores.join(' ');
  // At least 44 wide, wider when a step's stores need it, so the columns after it stay aligned.
  const width = Math.max(44, ...plan.phases.flatMap((p) => p.steps.map((s) => storesOf(s.stores).length)));
  for (const phase of plan.phases) {
    lines.push('', `FASE ${phase.phase}: ${phase.title}`);
    for (const step of phase.steps) {
      lines.push(
        `  ${step.from.slice(0, 10)} a ${step.to.slice(0, 10)}  ${storesOf(step.stores).padEnd(width)} ${String(step.storeDays).padStart(4)} ${step.storeDays === 1 ? 'día-tienda ' : 'días-tienda'}  ${String(step.requests).padStart(4)} ${step.requests === 1 ? 'petición  ' : 'peticiones'}  ${formatDuration(step.estimatedSeconds)}`,
      );
    }
  }
  lines.push(
    '',
    `Total: ${count(t.requests, 'petición', 'peticiones')}, ${count(t.storeDays, 'día-tienda pedido', 'días-tienda pedidos')} para ${int(t.missingStoreDays)} faltantes o parciales (x${decimal(t.overFetchRatio, 2)}), ${formatDuration(t.estimatedSeconds)} con el backfill en paralelo.`,
  );
  const steps = plan.phases.reduce((n, p) => n + p.steps.length, 0);
  if (steps > 1)
    lines.push(
      'El tiempo de cada paso es el suyo por separado; el backfill corre todos los pasos a la vez: el total no es su suma.',
    );
  const estimate = describeEstimate(t.estimate);
  if (estimate) lines.push(estimate);
  return lines.join('\n');
}
