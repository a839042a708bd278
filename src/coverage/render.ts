/**
 * The coverage report for people (terminal table, the seed's markdown) and for spreadsheets (CSV). Pure.
 */
import { count, int } from '../shared/format.ts';
import { addDays, type IsoDate } from '../shared/dates.ts';
import {
  coveragePct,
  type CommonGapDetail,
  type CoverageReport,
  type MissingRange,
  type Priority,
  type StoreCoverage,
} from './report.ts';
import type { UnprovenEmpty } from './states.ts';

const MONTHS = ['Ene', 'Feb', 'Mar', 'Abr', 'May', 'Jun', 'Jul', 'Ago', 'Sep', 'Oct', 'Nov', 'Dic'];

/** `2025-12-25` as the seed writes it: `25-Dic`. */
function shortDay(day: IsoDate): string {
  return `${Number(day.slice(8, 10))}-${MONTHS[Number(day.slice(5, 7)) - 1]}`;
}

/** `a`, `a y b`, `a, b y c`. */
function listEs(items: readonly string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} y ${items.at(-1)}`;
}

/** Yearly closures appear once per label even when the window spans years. */
function closedDayLabels(days: readonly IsoDate[]): string {
  return listEs([...new Set(days.map(shortDay))]);
}

/** Days on which KLK answered the whole day with no lines, per store: explained, so not expected. */
function emptyDays(report: CoverageReport): Array<{ store: string; days: IsoDate[] }> {
  return report.stores
    .map((s) => ({
      store: s.store,
      days: (report.days[s.store] ?? []).filter((c) => c.state === 'empty').map((c) => c.day),
    }))
    .filter((e) => e.days.length > 0);
}

function firstSaleEs(s: StoreCoverage): string {
  return s.firstSale ? `primera venta ${s.firstSale}` : 'sin ventas registradas';
}

function partialWord(n: number): string {
  return n === 1 ? 'parcial' : 'parciales';
}

function partials(n: number): string {
  return `${n} ${partialWord(n)}`;
}

function hasGaps(s: StoreCoverage): boolean {
  return s.missingDays + s.partialDays + s.rejectedDays > 0;
}

function plural(n: number, one: string, many: string): string {
  return `${int(n)} ${n === 1 ? one : many}`;
}

/** Consecutive rejected days of a store, with their rejected lines summed. */
interface RejectedRun {
  store: string;
  from: IsoDate;
  to: IsoDate;
  days: number;
  lines: number;
  sourceChanged: boolean;
}

function rejectedRuns(report: CoverageReport): RejectedRun[] {
  const runs: RejectedRun[] = [];
  for (const s of report.stores) {
    let open: RejectedRun | null = null;
    for (const c of report.days[s.store] ?? []) {
      if (c.state !== 'rejected') {
        open = null;
        continue;
      }
      if (open && addDays(open.to, 1) === c.day) {
        open.to = c.day;
        open.days++;
        open.lines += c.rejectedLines;
        open.sourceChanged ||= c.sourceChanged;
      } else {
        open = { store: s.store, from: c.day, to: c.day, days: 1, lines: c.rejectedLines, sourceChanged: c.sourceChanged };
        runs.push(open);
      }
    }
  }
  return runs;
}

/** The command that lists a run's quarantined lines. */
function quarantineCommand(r: { store: string; from: IsoDate; to: IsoDate }): string {
  return `npx ventas quarantine --stores ${r.store} --from ${r.from} --to ${r.to}`;
}

/** The command that asks KLK about a suspected new store's days before its first sale. */
function confirmNewCommand(report: CoverageReport, s: StoreCoverage): string {
  const before = addDays(s.firstSale!, -1);
  return `npx ventas verify --reconcile --stores ${s.store} --from ${report.from} --to ${before < report.to ? before : report.to}`;
}

function rejectedRunEs(r: RejectedRun): string {
  const days = r.from === r.to ? r.from : `del ${r.from} al ${r.to} (${r.days} días)`;
  const changed = r.sourceChanged ? ' (KLK las cambió desde la extracción anterior)' : '';
  const see = r.lines === 1 ? 'véala' : 'véalas';
  return `${r.store} ${days}: ${plural(r.lines, 'línea rechazada', 'líneas rechazadas')}${changed}; ${see} con \`${quarantineCommand(r)}\``;
}

/** Why a missing day's 0 lines from KLK do not count yet, and what will prove them. */
export function unprovenEmptyEs(u: Pick<UnprovenEmpty, 'reason' | 'confirmFrom'> & { confirmFromLocal?: string | null }): string {
  return u.reason === 'no-proof'
    ? 'la respuesta de KLK no traía un «meta» que la pruebe completa (eco de la petición y total_registros): sus 0 líneas no cuentan como día sin ventas'
    : `KLK respondió 0 líneas un día en que la tienda suele vender; cuenta como día sin ventas si otra respuesta vacía lo confirma desde ${u.confirmFromLocal ?? u.confirmFrom}`;
}

/** The line that says how many rejected store-days a plan leaves out, and where their lines are. */
export function rejectedStoreDaysNote(n: number): string {
  return (
    `No se planifican ${plural(n, 'día-tienda rechazado', 'días-tienda rechazados')} (KLK envió líneas y todas ` +
    'quedaron en cuarentena): `npx ventas gaps` los lista y `npx ventas quarantine` muestra sus líneas.'
  );
}

/** The one line that says how many store-days a report or plan left out for not being over yet. */
export function futureStoreDaysNote(n: number): string {
  return (
    `No cuentan ${plural(n, 'día-tienda futuro', 'días-tienda futuros')} (después de hoy, u hoy antes del cierre, ` +
    'en la hora de cada tienda): no se esperan ni se planifican.'
  );
}

/** Unproven empty days listed one per line; past this many only their count. */
const MAX_LISTED = 20;

// ---------------------------------------------------------------------------------------------- terminal table

const ANSI: Record<Priority, string> = { ALTA: '\x1b[31m', MEDIA: '\x1b[33m', BAJA: '\x1b[36m', OK: '\x1b[32m' };
const RESET = '\x1b[0m';

function pctEs(pct: number): string {
  return `${pct.toLocaleString('es-VE', { minimumFractionDigits: 1, maximumFractionDigits: 1 })} %`;
}

function rangeEs(r: MissingRange): string {
  return r.from === r.to ? r.from : `${r.from} a ${r.to} (${r.days} días)`;
}

function gapLineEs(g: CommonGapDetail): string {
  return (
    `Hueco común del ${g.from} al ${g.to}: ${g.days} días faltantes ` +
    `en ${g.stores.length} de ${count(g.expectedStores, 'tienda', 'tiendas')}`
  );
}

export function renderTable(report: CoverageReport, options: { color: boolean }): string {
  const t = report.totals;
  // The rejected column only when there is something in it: most reports have none.
  const withRejected = t.rejectedStoreDays > 0;
  const keep = <T,>(row: T[]): T[] => (withRejected ? row : row.filter((_, i) => i !== 6));
  const header = keep(['Tienda', 'Nombre', 'Esperados', 'Con datos', 'Faltantes', 'Parciales', 'Rechazados', 'Cobertura', 'Prioridad', 'Nueva']);
  const numeric = keep([false, false, true, true, true, true, true, true, false, false]);
  const priorityColumn = header.indexOf('Prioridad');
  const body = report.stores.map((s) =>
    keep([
      s.store,
      s.name,
      int(s.expectedDays),
      int(s.daysWithData),
      int(s.missingDays),
      int(s.partialDays),
      int(s.rejectedDays),
      pctEs(s.coveragePct),
      s.priority,
      s.isNew ? 'sí' : s.suspectedNew ? '¿sí?' : '',
    ]),
  );
  const totalWithData = t.expectedStoreDays - t.missingStoreDays - t.rejectedStoreDays;
  const total = keep([
    'Total',
    count(report.stores.length, 'tienda', 'tiendas'),
    int(t.expectedStoreDays),
    int(totalWithData),
    int(t.missingStoreDays),
    int(t.partialStoreDays),
    int(t.rejectedStoreDays),
    pctEs(coveragePct(totalWithData, t.expectedStoreDays)),
    '',
    '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...[...body, total].map((row) => row[i]!.length)));
  const line = (row: string[], priority?: Priority) =>
    row
      .map((cell, i) => {
        if (numeric[i]) return cell.padStart(widths[i]!);
        const padding = ' '.repeat(widths[i]! - cell.length);
        const colored = options.color && priority && i === priorityColumn;
        return colored ? `${ANSI[priority]}${cell}${RESET}${padding}` : cell + padding;
      })
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '─'.repeat(w)).join('  ');

  const out = [
    `Cobertura de ventas del ${report.from} al ${report.to}`,
    '',
    line(header),
    rule,
    ...body.map((row, i) => line(row, report.stores[i]!.priority)),
    rule,
    line(total),
    ...(t.futureStoreDays > 0 ? [futureStoreDaysNote(t.futureStoreDays)] : []),
    '',
    'Patrones:',
  ];
  const patterns = [
    ...report.patterns.commonGaps.map(gapLineEs),
    ...(report.patterns.closedDays.length > 0
      ? [`Días cerrados de la cadena: ${closedDayLabels(report.patterns.closedDays)} (no se esperan ventas)`]
      : []),
    ...emptyDays(report).map((e) => `${e.store}: KLK no tuvo ventas el ${listEs(e.days)} (no se esperan ventas)`),
    ...report.stores
      .filter((s) => s.isNew)
      .map((s) => `Tienda nueva: ${s.store} (${s.name}), ${firstSaleEs(s)}`),
    ...report.stores
      .filter((s) => s.suspectedNew)
      .map(
        (s) =>
          `¿Tienda nueva? ${s.store} (${s.name}), ${firstSaleEs(s)}, sin prueba de que no vendiera antes: ` +
          `sus días anteriores siguen faltando. Confírmelo con KLK: ${confirmNewCommand(report, s)}`,
      ),
  ];
  out.push(...(patterns.length > 0 ? patterns.map((p) => `  - ${p}`) : ['  ninguno']));

  const unproven = report.stores.flatMap((s) => s.unprovenEmpty.map((u) => ({ store: s.store, ...u })));
  if (unproven.length > 0) {
    out.push('', 'Días con 0 líneas de KLK sin probar (siguen faltando y se planifican):');
    out.push(...unproven.slice(0, MAX_LISTED).map((u) => `  - ${u.store} ${u.day}: ${unprovenEmptyEs(u)}`));
    if (unproven.length > MAX_LISTED) out.push(`  - … y ${int(unproven.length - MAX_LISTED)} más (\`--format json\`: \`unprovenEmpty\`)`);
  }

  const rejected = rejectedRuns(report);
  if (rejected.length > 0) {
    out.push('', 'Días rechazados (KLK envió líneas y todas quedaron en cuarentena; el plan no los vuelve a pedir):');
    out.push(...rejected.map((r) => `  - ${rejectedRunEs(r)}`));
  }

  // Ranges inside a common gap were stated once above; each store lists only its own holes.
  const inCommonGap = (r: MissingRange) => report.patterns.commonGaps.some((g) => g.from <= r.from && r.to <= g.to);
  const ownHoles = report.stores
    .map((s) => ({ s, ranges: s.missingRanges.filter((r) => !inCommonGap(r)) }))
    .filter(({ s, ranges }) => ranges.length > 0 || s.partial.length > 0);
  if (ownHoles.length > 0) {
    out.push('', `Huecos por tienda${report.patterns.commonGaps.length > 0 ? ' (fuera de los huecos comunes)' : ''}:`);
    const idWidth = Math.max(...ownHoles.map(({ s }) => s.store.length));
    for (const { s, ranges } of ownHoles) {
      const parts = [
        ...(ranges.length > 0 ? [`faltan ${ranges.map(rangeEs).join(', ')}`] : []),
        ...(s.partial.length > 0 ? [`${partialWord(s.partial.length)} ${s.partial.join(', ')}`] : []),
      ];
      out.push(`  ${s.store.padEnd(idWidth)}  ${parts.join('; ')}`);
    }
  }
  return `${out.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------- markdown (seed)

/**
 * The seed's "Resumen de Gaps Detectados" and "Patron Detectado" sections, in its unaccented style. Coverage is a
 * whole percent rounded down, so a shown 48% is never ALTA at the default edge of 48.
 */
export function renderMarkdown(report: CoverageReport): string {
  const t = report.totals;
  const rejectedNote = t.rejectedStoreDays > 0 ? `, ${t.rejectedStoreDays} ${t.rejectedStoreDays === 1 ? 'rechazado' : 'rechazados'}` : '';
  const out = [
    '## Resumen de Gaps Detectados',
    '',
    `**Periodo**: ${report.from} a ${report.to} (${report.stores.length} tiendas, ${t.expectedStoreDays} dias-tienda ` +
      `esperados, ${t.missingStoreDays} faltantes, ${partials(t.partialStoreDays)}${rejectedNote})`,
    '',
    ...(t.futureStoreDays > 0
      ? [
          `**Dias futuros**: ${t.futureStoreDays} ${t.futureStoreDays === 1 ? 'dia-tienda' : 'dias-tienda'} aun sin terminar ` +
            '(despues de hoy, u hoy antes del cierre, en la hora de cada tienda): no se esperan ni se planifican',
          '',
        ]
      : []),
  ];
  const withGaps = report.stores.filter(hasGaps);
  const complete = report.stores.filter((s) => !hasGaps(s));
  if (withGaps.length > 0) {
    out.push('| Tienda | Dias Faltantes | Cobertura | Prioridad |');
    out.push('|--------|----------------|-----------|-----------|');
    for (const s of withGaps) {
      const extra = [
        ...(s.partialDays > 0 ? [`+${partials(s.partialDays)}`] : []),
        ...(s.rejectedDays > 0 ? [`+${s.rejectedDays} ${s.rejectedDays === 1 ? 'rechazado' : 'rechazados'}`] : []),
      ];
      const missing = extra.length > 0 ? `${s.missingDays} (${extra.join(', ')})` : `${s.missingDays}`;
      const priority = s.isNew ? `${s.priority} - Nueva tienda` : s.suspectedNew ? `${s.priority} - Posible tienda nueva` : s.priority;
      out.push(`| ${s.store} | ${missing} | ${Math.floor(s.coveragePct)}% | ${priority} |`);
    }
    out.push('');
  }
  if (complete.length > 0) {
    const label = withGaps.length > 0 ? 'Sin dias faltantes (100%)' : 'Todas las tiendas sin dias faltantes (100%)';
    out.push(`${label}: ${complete.map((s) => (s.isNew ? `${s.store} (nueva)` : s.store)).join(', ')}`, '');
  }

  const patterns = [
    ...report.patterns.commonGaps.map(
      (g) =>
        `**Gap reciente comun (${g.from} a ${g.to})**: ${g.days} dias faltantes en ${g.stores.length} de ` +
        `${g.expectedStores} tiendas`,
    ),
    ...(report.patterns.closedDays.length > 0
      ? [`**Dias festivos**: ${closedDayLabels(report.patterns.closedDays)} (tiendas cerradas, OK no tener datos)`]
      : []),
    ...emptyDays(report).map(
      (e) => `**${e.store} sin ventas en KLK**: ${listEs(e.days)} (KLK respondio 0 lineas, OK no tener datos)`,
    ),
    ...report.stores
      .filter((s) => s.isNew)
      .map(
        (s) =>
          `**${s.store} (${s.name})**: Tienda nueva, ${firstSaleEs(s)}`,
      ),
    ...report.stores
      .filter((s) => s.suspectedNew)
      .map(
        (s) =>
          `**${s.store} (${s.name})**: Posible tienda nueva, ${firstSaleEs(s)}; sus dias anteriores siguen faltando ` +
          `hasta confirmarlo con KLK: \`${confirmNewCommand(report, s)}\``,
      ),
    ...report.stores.flatMap((s) =>
      s.unprovenEmpty.slice(0, MAX_LISTED).map((u) => `**${s.store} ${u.day} sin probar**: ${unaccent(unprovenEmptyEs(u))}`),
    ),
    ...rejectedRuns(report).map(
      (r) => `**${r.store} lineas rechazadas**: ${unaccent(rejectedRunEs(r).slice(r.store.length + 1))}`,
    ),
  ];
  out.push('## Patron Detectado', '');
  out.push(...(patterns.length > 0 ? patterns.map((p, i) => `${i + 1}. ${p}`) : ['Ninguno.']));
  return `${out.join('\n')}\n`;
}

/** The seed's markdown is unaccented. */
function unaccent(text: string): string {
  return text.normalize('NFD').replace(/[\u0300-\u036f]/g, '');
}

// ---------------------------------------------------------------------------------------------- CSV

/** RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled; records end with CRLF. */
function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One record per store-day of the window, stores in the report's order. */
export function renderCsv(report: CoverageReport): string {
  const records = [['store', 'name', 'day', 'state', 'lines', 'klk_lines', 'total_usd', 'rejected_lines']];
  for (const s of report.stores) {
    for (const c of report.days[s.store] ?? []) {
      const klkLines = c.klkLines === null ? '' : String(c.klkLines);
      records.push([s.store, s.name, c.day, c.state, String(c.lines), klkLines, String(c.totalUsd), String(c.rejectedLines)]);
    }
  }
  return records.map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}
