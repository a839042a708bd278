/**
 * The quarantine: lines KLK sent that were not loaded, with the reason, the whole line and its local day (when the
 * date was readable), so a rejected store-day's lines can be listed (`ventas quarantine`).
 */
import { unnest } from '../db/index.ts';
import type { Queryable } from '../db/types.ts';
import type { IsoDate } from '../shared/dates.ts';
import type { Rejection } from './batch.ts';
import { unstorableTextReason } from './line.ts';

export async function insertQuarantine(
  tx: Queryable,
  params: { storeId: string; runId: number | null; rejections: readonly Rejection[] },
): Promise<void> {
  const r = params.rejections;
  if (r.length === 0) return;
  const source = unnest(
    [
      ['numero_factura', 'text'],
      ['linea', 'text'],
      ['day', 'date'],
      ['reason', 'text'],
      ['line', 'jsonb'],
      ['line_text', 'text'],
    ],
    [
      r.map((x) => x.numeroFactura?.slice(0, 100) ?? null),
      r.map((x) => x.linea?.slice(0, 20) ?? null),
      r.map((x) => x.day ?? null),
      r.map((x) => x.reason),
      // jsonb cannot hold U+0000 or a lone surrogate: such a line goes as JSON text, where both stay escaped.
      r.map((x) => (isStorableJson(x.line) ? JSON.stringify(x.line ?? null) : null)),
      r.map((x) => (isStorableJson(x.line) ? null : JSON.stringify(x.line))),
    ],
    3,
  );
  await tx.query(
    `INSERT INTO quarantine (run_id, store_id, numero_factura, linea, day, reason, line, line_text)
     SELECT $1, $2, t.numero_factura, t.linea, t.day, t.reason, t.line, t.line_text FROM (${source.sql}) t`,
    [params.runId, params.storeId, ...source.params],
  );
}

const isStorableJson = (line: unknown) => unstorableTextReason(line) === null;

export interface QuarantinedLine {
  id: number;
  runId: number | null;
  store: string;
  day: IsoDate | null;
  invoice: string | null;
  line: string | null;
  reason: string;
  quarantinedAt: Date;
  /** The line as KLK sent it (from `line`, or parsed from `line_text` when jsonb could not hold it). */
  raw: unknown;
}

export interface QuarantineFilter {
  /** Absent: every store. */
  storeIds?: readonly string[];
  /** Days, inclusive; with either bound, lines without a readable day are left out. */
  from?: IsoDate;
  to?: IsoDate;
  limit: number;
}

/*
 * A line is quarantined again by every extraction that sees it: each is listed once, as last quarantined (by its key,
 * or by its content when it had no readable key). Newest sales day first, then most recently quarantined, then by
 * invoice and line number.
 */
const LIST_SQL = `
  WITH latest AS (
    SELECT DISTINCT ON (store_id, day, numero_factura, linea, CASE WHEN numero_factura IS NULL OR linea IS NULL THEN coalesce(line::text, line_text) END)
           id, run_id, store_id, day, numero_factura, linea, reason, line, line_text, created_at
      FROM quarantine
     WHERE ($1::text[] IS NULL OR store_id = ANY($1::text[]))
       AND ($2::date IS NULL OR day >= $2::date)
       AND ($3::date IS NULL OR day <= $3::date)
     ORDER BY store_id, day, numero_factura, linea, CASE WHEN numero_factura IS NULL OR linea IS NULL THEN coalesce(line::text, line_text) END,
              created_at DESC, id DESC
  )
  SELECT id, run_id, store_id, to_char(day, 'YYYY-MM-DD') AS day, numero_factura, linea, reason, line, line_text, created_at,
         count(*) OVER ()::int AS total
    FROM latest
   ORDER BY day DESC NULLS LAST, created_at DESC, store_id, numero_factura, length(linea), linea, id
   LIMIT $4`;

/** The quarantined lines matching the filter, newest first, at most `limit`, and how many match in all. */
export async function listQuarantine(
  db: Queryable,
  filter: QuarantineFilter,
): Promise<{ total: number; lines: QuarantinedLine[] }> {
  const { rows } = await db.query<{
    id: string | number;
    run_id: string | number | null;
    store_id: string;
    day: string | null;
    numero_factura: string | null;
    linea: string | null;
    reason: string;
    line: unknown;
    line_text: string | null;
    created_at: Date;
    total: number;
  }>(LIST_SQL, [filter.storeIds ? [...filter.storeIds] : null, filter.from ?? null, filter.to ?? null, filter.limit]);
  return {
    total: rows[0]?.total ?? 0,
    lines: rows.map((r) => ({
      id: Number(r.id),
      runId: r.run_id === null ? null : Number(r.run_id),
      store: r.store_id,
      day: r.day,
      invoice: r.numero_factura,
      line: r.linea,
      reason: r.reason,
      quarantinedAt: new Date(r.created_at),
      raw: r.line_text === null ? r.line : JSON.parse(r.line_text),
    })),
  };
}
