import { resolveWindow } from '../catalogue/index.ts';
import { redactUrl } from '../shared/redact.ts';
import { computeCoverage, coveragePct, toJson, type CoverageReport, type CoverageTotals } from '../coverage/index.ts';
import { unprovenEmptyEs } from '../coverage/render.ts';
import { reconcile, type DayDifference, type DifferenceState, type ReconcileResult } from '../verify/reconcile.ts';
import { addDays, localDateTime, type IsoDate } from '../shared/dates.ts';
import { ExitCode } from '../shared/errors.ts';
import { count, int } from '../shared/format.ts';
import { createLogger, flushLogger } from '../shared/logger.ts';
import { createProgress } from '../shared/progress.ts';
import { openKlk } from '../klk/open.ts';
import { klkBaseUrl, openDatabase, resolveConfig } from './context.ts';
import { BACKFILL_STATUS } from '../backfill/render.ts';
import { latestComparison, type BackfillComparison } from '../backfill/comparison.ts';
import { renderCoverage } from './gaps.ts';
import type { Cli } from './main.ts';
import type { ReportFormat, WindowFlags } from './options.ts';

export interface VerifyFlags extends WindowFlags {
  format: ReportFormat;
  reconcile?: boolean;
  concurrency?: number;
  klkUrl?: string;
}

/** `ventas verify`: the coverage report, before/after the last backfill, and optionally KLK itself. */
export async function verifyCommand(cli: Cli, flags: VerifyFlags): Promise<number> {
  const config = resolveConfig(flags);
  const window = resolveWindow(flags, config);
  const baseUrl = flags.reconcile || flags.klkUrl ? klkBaseUrl(config, flags.klkUrl) : null;
  const concurrency = flags.concurrency ?? config.concurrency;
  const db = await openDatabase(cli);
  try {
    let reconciled: ReconcileResult | null = null;
    if (flags.reconcile) {
      const logger = createLogger();
      const progress = createProgress({
        isTty: cli.io.isTty && flags.format !== 'json',
        label: 'Conciliación',
        write: (line) => cli.io.err(line),
      });
      try {
        reconciled = await reconcile(
          {
            db,
            klk: openKlk(config, { baseUrl: baseUrl!, concurrency, logger }),
            config,
            concurrency,
            logger,
            onProgress: (p) => progress.update(p.requestsDone, p.requestsTotal, { lines: p.lines, unit: 'peticiones' }),
          },
          { from: window.from, to: window.to, storeIds: window.stores.map((s) => s.id) },
        );
      } finally {
        progress.stop();
        await flushLogger(logger);
      }
    }
    // After reconciling: the days KLK has more of are partial now.
    const report = await computeCoverage(db, config, window);
    const backfill = await latestComparison(db, {
      from: window.from,
      to: window.to,
      storeIds: window.stores.map((s) => s.id),
    });
    const retry = reconciled && reconciled.failedStores.length > 0 ? retryCommand(flags, window, reconciled) : null;
    const outcome = verdict(report, reconciled);
    const timeZone = window.stores[0]?.timeZone ?? 'America/Caracas';

    if (flags.format === 'json') {
      cli.io.out(JSON.stringify(verifyJson(report, backfill, reconciled, retry)));
    } else if (flags.format === 'csv') {
      // stdout stays one clean CSV; what does not fit a store-day record goes to stderr.
      cli.io.out(renderCoverage(report, 'csv', cli.io.isTty));
      const notes = [
        ...(backfill ? [renderBackfill(backfill, 'table', timeZone)] : []),
        ...(reconciled ? [renderReconcile(reconciled, retry, 'table')] : []),
        outcome.text,
      ];
      cli.io.err(notes.join('\n\n'));
    } else {
      const markdown = flags.format === 'markdown';
      const sections = [
        renderCoverage(report, flags.format, cli.io.isTty).trimEnd(),
        ...(backfill ? [renderBackfill(backfill, flags.format, timeZone)] : []),
        ...(reconciled ? [renderReconcile(reconciled, retry, flags.format)] : []),
        markdown ? `## Resultado\n\n${outcome.markdown}` : outcome.text,
      ];
      cli.io.out(`${sections.join('\n\n')}\n`);
    }
    if (reconciled?.klkUnreachable) {
      cli.io.err(
        `error: KLK no responde en ${redactUrl(baseUrl ?? '')} (ninguna petición obtuvo respuesta); reintente con: ${retry}`,
      );
      return ExitCode.unreachable;
    }
    return outcome.ok ? ExitCode.ok : ExitCode.partial;
  } finally {
    await db.close();
  }
}

function verifyJson(
  report: CoverageReport,
  backfill: BackfillComparison | null,
  reconciled: ReconcileResult | null,
  retry: string | null,
) {
  return {
    ...toJson(report),
    backfill: backfill && { id: backfill.id, before: backfill.before, after: backfill.after },
    ...(reconciled && {
      reconcile: {
        checkedStoreDays: reconciled.checkedStoreDays,
        matching: reconciled.matching,
        differing: reconciled.differing,
        unproven: reconciled.unproven,
        failedStores: reconciled.failedStores,
        retry,
      },
    }),
  };
}

/** The command that checks again exactly the stores KLK did not answer for. */
function retryCommand(flags: VerifyFlags, window: { from: IsoDate; to: IsoDate }, reconciled: ReconcileResult): string {
  const stores = reconciled.failedStores.map((f) => f.store).join(',');
  const extra = [
    ...(flags.klkUrl ? [`--klk-url ${flags.klkUrl}`] : []),
    ...(flags.config ? [`--config ${flags.config}`] : []),
  ];
  return ['ventas verify --reconcile', `--from ${window.from} --to ${window.to} --stores ${stores}`, ...extra].join(
    ' ',
  );
}

function verdict(report: CoverageReport, reconciled: ReconcileResult | null) {
  const t = report.totals;
  const drift = reconciled?.differing.filter((d) => d.state === 'drift').length ?? 0;
  const failed = reconciled?.failedStores.length ?? 0;
  const count = (n: number, one: string, many: string) => `${int(n)} ${n === 1 ? one : many}`;
  const problems = [
    ...(t.missingStoreDays > 0 ? [count(t.missingStoreDays, 'día-tienda faltante', 'días-tienda faltantes')] : []),
    ...(t.partialStoreDays > 0 ? [count(t.partialStoreDays, 'parcial', 'parciales')] : []),
    ...(t.rejectedStoreDays > 0
      ? [count(t.rejectedStoreDays, 'rechazado (líneas en cuarentena)', 'rechazados (líneas en cuarentena)')]
      : []),
    ...(drift > 0 ? [`${int(drift)} con deriva`] : []),
    ...(failed > 0 ? [count(failed, 'tienda sin conciliar', 'tiendas sin conciliar')] : []),
  ];
  const ok = problems.length === 0;
  const scope = `${int(t.expectedStoreDays)} días-tienda esperados del ${report.from} al ${report.to}`;
  const text = ok
    ? `Verificado: los ${scope} están completos${reconciled ? ' y coinciden con KLK' : ''}.`
    : `Incompleto (${scope}): ${listEs(problems)}.`;
  return { ok, text, markdown: unaccent(text).replace(/^(Verificado|Incompleto)/, '**$1**') };
}

function listEs(items: readonly string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} y ${items.at(-1)}`;
}

/** The seed's markdown is unaccented. */
function unaccent(text: string): string {
  return text.normalize('NFD').replace(/[\u0300-\u036f]/g, '');
}

// ---------------------------------------------------------------------------------------------- before/after

function pct(t: CoverageTotals): string {
  const p = coveragePct(t.expectedStoreDays - t.missingStoreDays, t.expectedStoreDays);
  return `${p.toLocaleString('es-VE', { minimumFractionDigits: 1, maximumFractionDigits: 1 })} %`;
}

function renderBackfill(b: BackfillComparison, format: 'table' | 'markdown', timeZone: string): string {
  const rows: Array<[string, string, string]> = [
    ['Días-tienda esperados', int(b.before.expectedStoreDays), int(b.after.expectedStoreDays)],
    ['Faltantes', int(b.before.missingStoreDays), int(b.after.missingStoreDays)],
    ['Parciales', int(b.before.partialStoreDays), int(b.after.partialStoreDays)],
    ['Cobertura', pct(b.before), pct(b.after)],
  ];
  const title = `Backfill #${b.id} (${b.from} a ${b.to}, ${BACKFILL_STATUS[b.status]}, terminado ${localDateTime(timeZone, b.finishedAt).slice(0, 16)})`;
  if (format === 'markdown') {
    return unaccent(
      [
        `## Antes y Despues del Backfill #${b.id}`,
        '',
        `${title}`,
        '',
        '| | Antes | Despues |',
        '|---|---|---|',
        ...rows.map(([label, before, after]) => `| ${label} | ${before} | ${after} |`),
      ].join('\n'),
    );
  }
  const header: [string, string, string] = ['', 'Antes', 'Después'];
  const widths = [0, 1, 2].map((i) => Math.max(...[header, ...rows].map((r) => r[i]!.length)));
  const line = (r: [string, string, string]) =>
    `  ${r[0].padEnd(widths[0]!)}  ${r[1].padStart(widths[1]!)}  ${r[2].padStart(widths[2]!)}`.trimEnd();
  return [`${title}:`, line(header), ...rows.map(line)].join('\n');
}

// ---------------------------------------------------------------------------------------------- reconcile

/** Unproven days listed one per line; past this many only their count. */
const MAX_UNPROVEN = 20;

const STATE_ES: Record<DifferenceState, string> = { missing: 'faltante', partial: 'parcial', drift: 'deriva' };

/** Differing days of a store, with runs of consecutive missing days folded into one line (their figures summed). */
function foldMissingRuns(differing: readonly DayDifference[]): Array<DayDifference & { until: IsoDate; days: number }> {
  const out: Array<DayDifference & { until: IsoDate; days: number }> = [];
  for (const d of differing) {
    const last = out.at(-1);
    if (
      last &&
      d.state === 'missing' &&
      last.state === 'missing' &&
      last.store === d.store &&
      addDays(last.until, 1) === d.day
    ) {
      last.until = d.day;
      last.days++;
      last.klk = { lines: last.klk.lines + d.klk.lines, usd: Math.round((last.klk.usd + d.klk.usd) * 1e4) / 1e4 };
    } else {
      out.push({ ...d, table: { ...d.table }, klk: { ...d.klk }, until: d.day, days: 1 });
    }
  }
  return out;
}

/** Cents, or four decimals when cents would show two different totals as equal. */
function usdPair(table: number, klk: number): [string, string] {
  const digits = table !== klk && table.toFixed(2) === klk.toFixed(2) ? 4 : 2;
  const format = (n: number) =>
    n.toLocaleString('es-VE', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return [format(table), format(klk)];
}

function renderReconcile(r: ReconcileResult, retry: string | null, format: 'table' | 'markdown'): string {
  const unchecked = r.failedStores.reduce((n, f) => n + f.uncheckedDays, 0);
  const summary =
    r.differing.length === 0 && r.unproven.length === 0 && unchecked === 0
      ? `${count(r.checkedStoreDays, 'día-tienda revisado', 'días-tienda revisados')}, ${r.checkedStoreDays === 1 ? 'coincide' : 'todos coinciden'} con KLK.`
      : `${count(r.checkedStoreDays, 'día-tienda revisado', 'días-tienda revisados')}: ${int(r.matching)} ${r.matching === 1 ? 'coincide' : 'coinciden'}, ${int(r.differing.length)} ${r.differing.length === 1 ? 'difiere' : 'difieren'}` +
        `${r.unproven.length > 0 ? `, ${int(r.unproven.length)} sin probar` : ''}${unchecked > 0 ? `, ${int(unchecked)} sin revisar` : ''}.`;
  const unproven = r.unproven.slice(0, MAX_UNPROVEN).map((u) => `${u.store} ${u.day}: ${unprovenEmptyEs(u)}`);
  if (r.unproven.length > MAX_UNPROVEN) unproven.push(`… y ${int(r.unproven.length - MAX_UNPROVEN)} más`);
  const header = ['Tienda', 'Día', 'Líneas tabla', 'Líneas KLK', 'USD tabla', 'USD KLK', 'Estado'];
  const rows = foldMissingRuns(r.differing).map((d) => [
    d.store,
    d.days === 1 ? d.day : `${d.day} a ${d.until} (${d.days} días)`,
    int(d.table.lines),
    int(d.klk.lines),
    ...usdPair(d.table.usd, d.klk.usd),
    STATE_ES[d.state],
  ]);
  const failed = r.failedStores.map(
    (f) => `${f.store}: ${count(f.uncheckedDays, 'día', 'días')} sin revisar (${f.error})`,
  );

  if (format === 'markdown') {
    const out = ['## Conciliacion con KLK', '', unaccent(summary)];
    if (rows.length > 0) {
      out.push(
        '',
        `| ${header.join(' | ')} |`,
        `|${header.map(() => '---').join('|')}|`,
        ...rows.map((row) => `| ${row.join(' | ')} |`),
      );
    }
    if (unproven.length > 0)
      out.push(
        '',
        '**Sin probar (0 lineas de KLK que no prueban un dia sin ventas; no cuentan como coincidentes)**:',
        '',
        ...unproven.map((u) => `- ${u}`),
      );
    if (failed.length > 0) {
      out.push('', '**Tiendas sin conciliar (KLK no respondio)**:', '', ...failed.map((f) => `- ${f}`));
      out.push('', 'Para reintentar:', '', '```bash', retry!, '```');
    }
    return unaccent(out.join('\n'));
  }
  const out = [`Conciliación con KLK: ${summary}`];
  if (rows.length > 0) {
    const numeric = [false, false, true, true, true, true, false];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
    const line = (row: string[]) =>
      row
        .map((cell, i) => (numeric[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd();
    out.push('', `  ${line(header)}`, ...rows.map((row) => `  ${line(row)}`));
    if (r.differing.some((d) => d.state === 'drift')) out.push('  (deriva: la tabla tiene líneas que KLK ya no tiene)');
  }
  if (unproven.length > 0)
    out.push(
      '',
      'Sin probar (0 líneas de KLK que no prueban un día sin ventas; no cuentan como coincidentes):',
      ...unproven.map((u) => `  ${u}`),
    );
  if (failed.length > 0) {
    out.push('', 'Tiendas sin conciliar (KLK no respondió; no se dan por buenas):', ...failed.map((f) => `  ${f}`));
    out.push('', 'Para reintentar:', `  ${retry!}`);
  }
  return out.join('\n');
}
