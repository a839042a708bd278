/** The run history and one run, for people (Spanish, numbers as es-VE, times in the stores' zone). */
import { renderBeforeAfter } from '../backfill/render.ts';
import { localDateTime, utcOffsetLabel } from '../shared/dates.ts';
import { int, seconds } from '../shared/format.ts';
import type { CancelOutcome } from './cancel.ts';
import type { BackfillDetail, EtlRunDetail, RunDetail } from './detail.ts';
import type { RunItem } from './history.ts';
import { RUN_STATUS_ES, RUN_TYPE_ES } from './status.ts';

/** A few stores by name, more by count: "tienda_01, tienda_02" or "19 tiendas". */
export function storesText(ids: readonly string[]): string {
  if (ids.length === 0) return 'ninguna tienda';
  return ids.length <= 3 ? ids.join(', ') : `${int(ids.length)} tiendas`;
}

/** Days for a backfill; an ETL window in minutes, or in days when it covers whole days. */
export function windowText(from: string | null, to: string | null): string {
  if (!from || !to) return '—';
  const day = (t: string) => t.slice(0, 10);
  const wholeDays = from.length === 10 || (from.endsWith(' 00:00:00') && to.endsWith(' 23:59:59'));
  if (wholeDays) return day(from) === day(to) ? day(from) : `${day(from)} a ${day(to)}`;
  return `${from.slice(0, 16)} a ${to.slice(0, 16)}`;
}

function localTime(iso: string | null, timeZone: string): string {
  return iso ? localDateTime(timeZone, new Date(iso)).slice(0, 16) : '—';
}

/** A time with its zone, for the detail lines. */
function zonedTime(iso: string | null, timeZone: string): string {
  return iso ? `${localTime(iso, timeZone)} ${utcOffsetLabel(timeZone, new Date(iso))}` : '—';
}

function duration(value: number | null): string {
  return value === null ? '—' : seconds(value * 1000);
}

/** Columns padded to their widest cell; `numeric` ones aligned right. */
function table(header: string[], rows: string[][], numeric: readonly number[] = []): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (numeric.includes(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

/** `ventas runs`: one line per run, newest first, then the commands that resume the resumable backfills. */
export function renderRunsTable(runs: readonly RunItem[], timeZone: string): string {
  if (runs.length === 0) return 'Sin ejecuciones registradas todavía.';
  const rows = runs.map((r) => [
    r.ref,
    RUN_TYPE_ES[r.type] ?? r.type,
    RUN_STATUS_ES[r.status] ?? r.status,
    localTime(r.startedAt, timeZone),
    windowText(r.from, r.to),
    storesText(r.stores),
    int(r.lines),
    duration(r.seconds),
  ]);
  const out = table(
    ['ID', 'Tipo', 'Estado', `Inicio (${utcOffsetLabel(timeZone)})`, 'Ventana', 'Tiendas', 'Líneas', 'Duración'],
    rows,
    [6, 7],
  );
  const resumable = runs.filter((r) => r.resumable && r.command);
  if (resumable.length > 0) {
    out.push(
      '',
      resumable.length === 1 ? 'Para reanudar el backfill sin terminar:' : 'Para reanudar los backfills sin terminar:',
    );
    out.push(...resumable.map((r) => `  ${r.command}`));
  }
  const unfinishedEtl = runs.filter((r) => r.kind === 'etl' && r.resumeCommand);
  if (unfinishedEtl.length > 0) {
    out.push('', 'Para terminar lo que dejaron las ejecuciones ETL sin terminar:');
    out.push(...unfinishedEtl.flatMap((r) => r.resumeCommand!.split('\n').map((c) => `  ${r.ref}: ${c}`)));
  }
  return out.join('\n');
}

function counts(c: BackfillDetail['chunks'], status: BackfillDetail['status']): string {
  const parts = [`${int(c.done)} hechos`, `${int(c.failed)} fallidos`, `${int(c.pending)} pendientes`];
  // Chunks left `running` by a process that died are taken up again by the next resume.
  if (c.running > 0)
    parts.push(`${int(c.running)} ${status === 'running' ? 'en curso' : 'tomados por un proceso que ya no está'}`);
  return `${int(c.total)} (${parts.join(', ')})`;
}

function renderBackfillDetail(d: BackfillDetail, timeZone: string): string {
  const out = [
    `Backfill #${d.id}: ${RUN_STATUS_ES[d.status]}${d.workedOnBy.length > 0 ? ` (lo ejecuta ${d.workedOnBy.join(', ')})` : ''}`,
    `  Ventana: ${windowText(d.from, d.to)} · ${d.stores.length === 1 ? '1 tienda' : `${int(d.stores.length)} tiendas`}: ${d.stores.join(', ')}`,
    `  Inicio: ${zonedTime(d.startedAt, timeZone)} · Fin: ${zonedTime(d.finishedAt, timeZone)} · Duración: ${duration(d.seconds)}`,
    `  Concurrencia ${int(d.concurrency)} · --mirror ${d.mirror ? 'sí' : 'no'}`,
    `  Bloques: ${counts(d.chunks, d.status)} · días-tienda: ${int(d.storeDaysDone)} de ${int(d.storeDays)} hechos`,
    `  Filas: ${int(d.lines)} líneas recibidas, ${int(d.rowsInserted)} insertadas, ${int(d.rowsUpdated)} actualizadas, ${int(d.rowsDeleted)} borradas · duplicados en origen ${int(d.duplicatesInSource)} · en cuarentena ${int(d.quarantined)}`,
  ];
  if (d.before && d.after) out.push(renderBeforeAfter(d.before, d.after));
  if (d.perStore.length > 0) {
    const rows = d.perStore.map((s) => [
      s.store,
      int(s.chunks.total),
      int(s.chunks.done),
      int(s.chunks.failed),
      int(s.chunks.pending + s.chunks.running),
      `${int(s.storeDaysDone)} de ${int(s.storeDays)}`,
      int(s.lines),
      int(s.rowsInserted),
    ]);
    out.push('', 'Por tienda:');
    out.push(
      ...table(
        ['Tienda', 'Bloques', 'Hechos', 'Fallidos', 'Por hacer', 'Días-tienda', 'Líneas', 'Insertadas'],
        rows,
        [1, 2, 3, 4, 5, 6, 7],
      ).map((l) => `  ${l}`),
    );
  }
  if (d.failedChunks.length > 0) {
    out.push('', 'Bloques fallidos:');
    for (const f of d.failedChunks) {
      const days = f.from === f.to ? f.from : `${f.from} a ${f.to}`;
      out.push(
        `  ${f.store} ${days} (${f.attempts} ${f.attempts === 1 ? 'intento' : 'intentos'}): ${f.error ?? 'sin detalle'}`,
      );
    }
  }
  out.push('');
  out.push(d.resumeCommand ? `Para reanudarlo: ${d.resumeCommand}` : `No se reanuda: ${d.whyNotResumable}.`);
  if (d.cancellable) out.push(`Para cancelarlo: npx ventas runs cancel ${d.ref}`);
  return out.join('\n');
}

function renderEtlRunDetail(d: EtlRunDetail, timeZone: string): string {
  const out = [
    `Ejecución ${d.ref} (${RUN_TYPE_ES[d.type] ?? d.type}): ${RUN_STATUS_ES[d.status]}`,
    `  Ventana: ${windowText(d.from, d.to)} · ${storesText(d.stores)}`,
    `  Inicio: ${zonedTime(d.startedAt, timeZone)} · Fin: ${zonedTime(d.finishedAt, timeZone)} · Duración: ${duration(d.seconds)}`,
    ...(d.command ? [`  Comando: ${d.command}`] : []),
    `  Filas: ${int(d.lines)} líneas extraídas, ${int(d.rowsInserted)} insertadas, ${int(d.rowsUpdated)} actualizadas, ${int(d.rowsUnchanged)} sin cambios, ${int(d.rowsDeleted)} borradas · duplicados ${int(d.duplicates)} · en cuarentena ${int(d.quarantined)}`,
    ...(d.error ? [`  Error: ${d.error}`] : []),
  ];
  if (d.perStore.length > 0) {
    const rows = d.perStore.map((s) => [
      s.store,
      RUN_STATUS_ES[s.status] ?? s.status,
      int(s.requests),
      int(s.lines),
      int(s.rowsInserted),
      int(s.rowsUpdated),
    ]);
    out.push('', 'Por tienda:');
    out.push(
      ...table(['Tienda', 'Estado', 'Peticiones', 'Líneas', 'Insertadas', 'Actualizadas'], rows, [2, 3, 4, 5]).map(
        (l) => `  ${l}`,
      ),
    );
    const errors = d.perStore.flatMap((s) => s.errors.map((e) => `  ${s.store}: ${e}`));
    if (errors.length > 0) out.push('', 'Errores:', ...errors);
  }
  if (d.cancellable) out.push('', `Su proceso ya no existe. Para cerrarla: npx ventas runs cancel ${d.ref}`);
  return out.join('\n');
}

/** `ventas runs show ID`. */
export function renderRunDetail(detail: RunDetail, timeZone: string): string {
  return detail.kind === 'backfill' ? renderBackfillDetail(detail, timeZone) : renderEtlRunDetail(detail, timeZone);
}

/** What `ventas runs cancel ID` did. */
export function renderCancel(outcome: CancelOutcome): string {
  const { before, stopping } = outcome;
  if (before.kind === 'etl') return `Ejecución ${before.ref} cancelada (su proceso ya no existía).`;
  const left = before.storeDays - before.storeDaysDone;
  const rest =
    left === 0
      ? 'no quedaba ningún día-tienda por hacer'
      : left === 1
        ? 'el día-tienda sin hacer no se ejecutará'
        : `los ${int(left)} días-tienda sin hacer no se ejecutarán`;
  if (before.status === 'running') {
    const who =
      stopping.length > 0 ? `el proceso que lo ejecuta (${stopping.join(', ')})` : 'el proceso que lo está empezando';
    return `Backfill #${before.id} cancelado: ${who} deja de tomar bloques y termina los que tiene en curso; ${rest}.`;
  }
  return `Backfill #${before.id} cancelado: ${rest}.`;
}
