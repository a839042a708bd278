import { parseDay, selectStores } from '../catalogue/index.ts';
import { listQuarantine, type QuarantinedLine } from '../load/quarantine.ts';
import type { IsoDate } from '../shared/dates.ts';
import { UsageError } from '../shared/errors.ts';
import { int } from '../shared/format.ts';
import { openDatabase, resolveConfig } from './context.ts';
import type { Cli } from './main.ts';

export interface QuarantineFlags {
  stores?: string;
  from?: string;
  to?: string;
  limit: number;
  format: 'table' | 'json';
  config?: string;
}

/** `ventas quarantine`: the lines KLK sent that were not loaded, and why (a rejected day's lines among them). */
export async function quarantineCommand(cli: Cli, flags: QuarantineFlags): Promise<void> {
  const config = resolveConfig(flags);
  const from = flags.from === undefined ? undefined : parseDay(flags.from, '--from');
  const to = flags.to === undefined ? undefined : parseDay(flags.to, '--to');
  if (from && to && from > to) throw new UsageError(`--from (${from}) es posterior a --to (${to})`);
  const storeIds =
    flags.stores === undefined ? undefined : selectStores(config.stores, [flags.stores]).map((s) => s.id);
  const db = await openDatabase(cli);
  try {
    const found = await listQuarantine(db, { storeIds, from, to, limit: flags.limit });
    cli.io.out(
      flags.format === 'json'
        ? JSON.stringify({ total: found.total, lines: found.lines.map(lineJson) })
        : renderQuarantine(found, { storeIds, from, to }),
    );
  } finally {
    await db.close();
  }
}

function lineJson(l: QuarantinedLine) {
  return {
    id: l.id,
    runId: l.runId,
    store: l.store,
    day: l.day,
    invoice: l.invoice,
    line: l.line,
    reason: l.reason,
    quarantinedAt: l.quarantinedAt.toISOString(),
    raw: l.raw,
  };
}

function scopeEs(filter: { storeIds?: readonly string[]; from?: IsoDate; to?: IsoDate }): string {
  const parts = [
    ...(filter.storeIds ? [`de ${filter.storeIds.join(', ')}`] : []),
    ...(filter.from && filter.to ? [`del ${filter.from} al ${filter.to}`] : []),
    ...(filter.from && !filter.to ? [`desde el ${filter.from}`] : []),
    ...(!filter.from && filter.to ? [`hasta el ${filter.to}`] : []),
  ];
  return parts.length > 0 ? ` ${parts.join(' ')}` : '';
}

/** A Spanish table: store, day, invoice, line, reason; newest first, as listed. */
export function renderQuarantine(
  found: { total: number; lines: readonly QuarantinedLine[] },
  filter: { storeIds?: readonly string[]; from?: IsoDate; to?: IsoDate },
): string {
  const scope = scopeEs(filter);
  if (found.total === 0) return `No hay líneas en cuarentena${scope}.`;
  const count = `${int(found.total)} ${found.total === 1 ? 'línea' : 'líneas'} en cuarentena${scope}`;
  const shown =
    found.lines.length < found.total
      ? ` (se muestran las ${int(found.lines.length)} más recientes; --limit para ver más)`
      : '';
  const header = ['Tienda', 'Día', 'Factura', 'Línea', 'Motivo'];
  const rows = found.lines.map((l) => [l.store, l.day ?? '—', l.invoice ?? '—', l.line ?? '—', l.reason]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [`${count}${shown}:`, '', line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join(
    '\n',
  );
}
