/**
 * The plan for people, in the seed's Spanish: the backfill document (markdown) and the runnable script (bash).
 * Pure: strings in, strings out.
 */
import type { IsoDate } from '../shared/dates.ts';
import { count, decimal, int } from '../shared/format.ts';
import { shellQuote, stepArguments } from './json.ts';
import { stepDays, type Plan, type PlanEstimate, type PlanPhase, type PlanStep, type PlanStore } from './plan.ts';

export interface RenderOptions {
  /** How `ventas` is invoked in the commands; `npx ventas` runs it from the project folder. */
  program?: string;
}

export interface MarkdownOptions extends RenderOptions {
  /** The coverage module's summary table and "Patron Detectado", placed as they are. */
  coverageMarkdown: string;
  /** The document's date. */
  date: IsoDate;
}

const DEFAULT_PROGRAM = 'npx ventas';

/** A duration as the seed writes estimates: `~45 s`, `~12 min`, `~1 h 5 min`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `~${s} s`;
  const minutes = Math.round(s / 60);
  if (minutes < 60) return `~${minutes} min`;
  const rest = minutes % 60;
  return `~${Math.floor(minutes / 60)} h${rest ? ` ${rest} min` : ''}`;
}

/** Seconds of the cost model: two significant digits under a second (0,015 s), one decimal above (2,5 s). */
function modelSeconds(x: number): string {
  const digits = x > 0 && x < 1 ? { maximumSignificantDigits: 2 } : { maximumFractionDigits: 1 };
  return `${x.toLocaleString('es-VE', digits)} s`;
}

/**
 * Which cost model the estimates used and on how much evidence: `Estimación: modelo ajustado con 289 peticiones
 * registradas (petición: 0,4 s + 0,9 s por 1.000 líneas; carga: 0,02 s + 0,015 s por 1.000 líneas; 3 en
 * paralelo)`. Null for a plan file saved without it.
 */
export function describeEstimate(estimate: PlanEstimate | undefined): string | null {
  if (!estimate) return null;
  const cost = (base: number, per1000: number) => `${modelSeconds(base)} + ${modelSeconds(per1000)} por 1.000 líneas`;
  const terms =
    `petición: ${cost(estimate.baseSeconds, estimate.secondsPer1000Lines)}; ` +
    `carga: ${cost(estimate.loadBaseSeconds, estimate.loadSecondsPer1000Lines)}; ${estimate.concurrency} en paralelo`;
  if (estimate.model === 'default')
    return `Estimación: modelo por defecto (${terms}): aún no hay peticiones registradas.`;
  const samples = `${int(estimate.samples)} ${estimate.samples === 1 ? 'petición registrada' : 'peticiones registradas'}`;
  return `Estimación: modelo ajustado con ${samples} (${terms}).`;
}

/** The step's command over several lines, like the seed writes them. */
function commandLines(step: PlanStep, program: string): string {
  return [`${program} etl`, ...stepArguments(step).map((a) => `    ${a}`)].join(' \\\n');
}

function dayCount(n: number): string {
  return `${int(n)} ${n === 1 ? 'dia' : 'dias'}`;
}

function requestCount(n: number): string {
  return `${int(n)} ${n === 1 ? 'peticion' : 'peticiones'}`;
}

function stepComment(step: PlanStep): string {
  const { dayFrom, dayTo, days } = stepDays(step);
  const window = dayFrom === dayTo ? dayFrom : `${dayFrom} a ${dayTo}`;
  const who = step.stores.length === 1 ? step.stores[0]! : `${step.stores.length} tiendas`;
  const chunks = step.chunkDays < days ? `, bloques de ${dayCount(step.chunkDays)}` : '';
  return `# ${who}: ${window} (${dayCount(days)})${chunks}, ${requestCount(step.requests)}`;
}

function stepsBlock(steps: readonly PlanStep[], program: string): string {
  return ['```bash', steps.map((s) => `${stepComment(s)}\n${commandLines(s, program)}`).join('\n\n'), '```'].join('\n');
}

function sumOf(steps: readonly PlanStep[], key: 'requests' | 'storeDays' | 'estimatedSeconds'): number {
  return steps.reduce((total, s) => total + s[key], 0);
}

/** Time when the steps run one after another, as the script does. */
function estimateLine(steps: readonly PlanStep[]): string {
  return (
    `**Tiempo estimado**: ${formatDuration(sumOf(steps, 'estimatedSeconds'))} ` +
    `(${requestCount(sumOf(steps, 'requests'))}, ${int(sumOf(steps, 'storeDays'))} tienda-dias)`
  );
}

function storeLabel(store: Pick<PlanStore, 'id' | 'name'>): string {
  return `${store.id} (${store.name})`;
}

/** Phase 2's steps per store, in the plan's order (each step has exactly one store). */
function stepsByStore(phase: PlanPhase): Array<{ storeId: string; steps: PlanStep[] }> {
  const groups: Array<{ storeId: string; steps: PlanStep[] }> = [];
  for (const step of phase.steps) {
    const storeId = step.stores[0]!;
    const last = groups.at(-1);
    if (last?.storeId === storeId) last.steps.push(step);
    else groups.push({ storeId, steps: [step] });
  }
  return groups;
}

function daysOfStoreIn(phase: PlanPhase | undefined, storeId: string): number {
  return (phase?.steps ?? []).filter((s) => s.stores.includes(storeId)).reduce((n, s) => n + stepDays(s).days, 0);
}

function storeOf(plan: Plan, id: string): PlanStore {
  const store = plan.stores.find((s) => s.id === id);
  if (!store) throw new Error(`el plan no describe la tienda ${id} de uno de sus pasos`);
  return store;
}

function phaseSection(plan: Plan, phase: PlanPhase, program: string): string[] {
  const out = [`## FASE ${phase.phase}: ${phase.title}`, ''];
  if (phase.phase === 1) {
    out.push('Huecos que comparten casi todas las tiendas. Ejecutar primero: una sola ventana para todas.', '');
    out.push(stepsBlock(phase.steps, program), '', estimateLine(phase.steps));
  } else if (phase.phase === 2) {
    out.push('Cada tienda por separado: primero las nuevas, luego las de menor cobertura. Solo sus dias pendientes.');
    const phase1 = plan.phases.find((p) => p.phase === 1);
    stepsByStore(phase).forEach(({ storeId, steps }, i) => {
      const store = storeOf(plan, storeId);
      const partial = store.partialDays ? `, ${dayCount(store.partialDays)} parciales` : '';
      const inPhase1 = daysOfStoreIn(phase1, storeId);
      const notes = [
        store.isNew ? 'Tienda nueva.' : '',
        `Cobertura ${store.coveragePct}%.`,
        `Pendientes en esta fase: ${dayCount(daysOfStoreIn(phase, storeId))}${inPhase1 ? ` (${dayCount(inPhase1)} ya van en la fase 1)` : ''}.`,
      ].filter(Boolean);
      out.push(
        '',
        `### 2.${i + 1} ${storeLabel(store)} - ${dayCount(store.missingDays)} faltantes${partial}`,
        notes.join(' '),
        '',
      );
      out.push(stepsBlock(steps, program), '', estimateLine(steps));
    });
  } else {
    out.push('Huecos dispersos: solo los dias faltantes o parciales, por lotes de tiendas con la misma ventana.', '');
    out.push(stepsBlock(phase.steps, program), '', estimateLine(phase.steps));
  }
  return out;
}

function summarySection(plan: Plan): string[] {
  const t = plan.totals;
  const rows = plan.phases.map(
    (p) =>
      `| ${p.phase}. ${p.title} | ${p.steps.length} | ${int(sumOf(p.steps, 'requests'))} | ${int(sumOf(p.steps, 'storeDays'))} | ${formatDuration(sumOf(p.steps, 'estimatedSeconds'))} |`,
  );
  const allSteps = plan.phases.flatMap((p) => p.steps);
  return [
    '## Resumen del Plan',
    '',
    '| Fase | Pasos | Peticiones | Tienda-dias | Tiempo (script) |',
    '|------|-------|------------|-------------|-----------------|',
    ...rows,
    `| **Total** | ${allSteps.length} | ${int(t.requests)} | ${int(t.storeDays)} | ${formatDuration(sumOf(allSteps, 'estimatedSeconds'))} |`,
    '',
    `- Tienda-dias faltantes o parciales: ${int(t.missingStoreDays)}; pedidos: ${int(t.storeDays)} (relacion pedidos/faltantes ${decimal(t.overFetchRatio, 2)}).`,
    `- Con \`ventas backfill\` (todos los pasos en paralelo, hasta ${plan.settings.concurrency} peticiones a la vez por KLK): ${formatDuration(t.estimatedSeconds)}.`,
    `- Ejecutando el script paso a paso: ${formatDuration(sumOf(allSteps, 'estimatedSeconds'))}.`,
    `- ${describeEstimate(t.estimate)!} Cada paso se estima con sus peticiones, hasta ${plan.settings.concurrency} a la vez.`,
  ];
}

const VOLUME_MARK: Record<PlanStore['linesPerDaySource'], string> = { window: '', history: '+', default: '*' };

/** Stores by chunk size, for the notes: `2 dias: tienda_02, tienda_03; 3 dias: ...`. */
function chunkSizesNote(plan: Plan): string {
  const bySize = new Map<number, string[]>();
  for (const s of plan.stores)
    bySize.set(s.chunkDays, [...(bySize.get(s.chunkDays) ?? []), `${s.id}${VOLUME_MARK[s.linesPerDaySource]}`]);
  const sizes = [...bySize.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([n, ids]) => `${dayCount(n)}: ${ids.join(', ')}`);
  const sources = new Set(plan.stores.map((s) => s.linesPerDaySource));
  const legend = [
    sources.has('history') ? '+ sin dias completos en la ventana: volumen de sus ultimos dias con ventas' : '',
    sources.has('default') ? '* volumen no observado: se supone uno por defecto' : '',
  ].filter(Boolean);
  return sizes.join('; ') + (legend.length > 0 ? ` (${legend.join('; ')})` : '');
}

/** The seed's document, generated: coverage, phases with commands and estimates, the script, the verification. */
export function renderPlanMarkdown(plan: Plan, options: MarkdownOptions): string {
  const program = options.program ?? DEFAULT_PROGRAM;
  const out = [
    '# Plan de Backfill de Ventas - KLK',
    '',
    `**Fecha**: ${options.date}`,
    `**Estado**: ${plan.phases.length > 0 ? 'Por ejecutar' : 'Nada que ejecutar'}`,
    `**Ventana**: ${plan.from} a ${plan.to}`,
    '',
    options.coverageMarkdown.trim(),
    '',
    '---',
    '',
  ];
  if (plan.phases.length === 0) {
    out.push('No hay dias faltantes ni parciales en la ventana: no hay nada que pedir a KLK.', '', '---', '');
  } else {
    out.push(...summarySection(plan), '', '---', '');
    for (const phase of plan.phases) out.push(...phaseSection(plan, phase, program), '', '---', '');
  }
  const window = `--from ${plan.from} --to ${plan.to}`;
  out.push(
    '## Script Completo de Ejecucion',
    '',
    'Guardar como `backfill_ventas.sh` y ejecutar desde la carpeta del proyecto (`bash backfill_ventas.sh`).',
    '',
    '```bash',
    renderPlanBash(plan, { program }).trimEnd(),
    '```',
    '',
    '---',
    '',
    '## Verificacion Post-Backfill',
    '',
    '```bash',
    `${program} verify ${window}`,
    '```',
    '',
    'Prueba que cada tienda-dia esperado de la ventana quedo completo. Se mide por tienda y por dia, incluidos los',
    'huecos al principio y al final de la ventana (la consulta SQL anterior empezaba cada tienda en su primera venta',
    'y terminaba en la ultima, y no los veia); los dias cerrados no cuentan como esperados. Para comparar ademas con',
    `KLK mismo (lineas y total por dia): \`${program} verify ${window} --reconcile\`.`,
    '',
    '---',
    '',
    '## Notas Importantes',
    '',
    `1. **Dias cerrados y vacios**: los dias cerrados (feriados de la cadena como 25-Dic y 1-Ene, cierres configurados, antes de la apertura o despues del cierre de una tienda) y los dias en que KLK respondio 0 lineas nunca se piden: ${int(plan.unavailableStoreDays)} tienda-dias en esta ventana.`,
    '2. **Duplicados**: la carga es un UPSERT por `(ubicacion_id, numero_factura)`; es seguro re-ejecutar el mismo rango.',
    `3. **Tamano de bloque**: sale del volumen de cada tienda (mediana de sus dias completos en la ventana) para que ninguna peticion pase de ${int(plan.settings.lineBudget)} lineas. ${chunkSizesNote(plan)}.`,
    `4. **Ejecucion en paralelo y reanudable**: \`${program} backfill ${window}\` (o \`--plan plan.json\` con la salida de \`ventas plan --format json\`) ejecuta este mismo plan con todos los pasos en paralelo (hasta ${plan.settings.concurrency} peticiones por KLK), con reintentos; si se interrumpe, \`${program} backfill --resume\` termina lo pendiente sin repetir nada.`,
    '',
  );
  return out.join('\n');
}

/** The script alone, runnable: one `etl` invocation per step, phase by phase. */
export function renderPlanBash(plan: Plan, options: RenderOptions = {}): string {
  const program = options.program ?? DEFAULT_PROGRAM;
  const t = plan.totals;
  const echo = (text: string) => `echo ${shellQuote(text)}`;
  const out = [
    '#!/usr/bin/env bash',
    `# Plan de backfill de ventas KLK: ${plan.from} a ${plan.to} (generado por ventas plan).`,
    `# ${count(t.requests, 'peticion', 'peticiones')}, ${count(t.storeDays, 'tienda-dia', 'tienda-dias')} para ${int(t.missingStoreDays)} faltantes o parciales.`,
    '# Ejecutar desde la carpeta del proyecto ventas.',
    '',
    'set -euo pipefail',
    '',
  ];
  for (const phase of plan.phases) {
    if (phase.phase === 2) {
      stepsByStore(phase).forEach(({ storeId, steps }, i) => {
        out.push(echo(`=== FASE 2.${i + 1}: ${storeLabel(storeOf(plan, storeId))} ===`));
        for (const step of steps) out.push(commandLines(step, program), '');
      });
    } else {
      out.push(echo(`=== FASE ${phase.phase}: ${phase.title} ===`));
      for (const step of phase.steps) out.push(commandLines(step, program), '');
    }
  }
  out.push(
    echo(plan.phases.length > 0 ? '=== BACKFILL COMPLETO ===' : 'Nada que hacer: no hay dias faltantes ni parciales.'),
    '',
  );
  return out.join('\n');
}
