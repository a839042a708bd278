import type { Store } from '../catalogue/stores.ts';
import { klkLineSchema, parseWellFormedLine, rejectionReason, unstorableTextReason, type KlkLine } from './line.ts';

/**
 * The columns of `ventas` that a load writes, in the Fluxion layout, with their exact PostgreSQL types: values
 * compared with the table's are first rounded the way the table stores them.
 */
export const VENTAS_COLUMNS = [
  ['numero_factura', 'varchar(100)'],
  ['fecha_venta', 'timestamp'],
  ['ubicacion_id', 'varchar(50)'],
  ['almacen_codigo', 'varchar(50)'],
  ['almacen_nombre', 'varchar(100)'],
  ['producto_id', 'varchar(50)'],
  ['cantidad_vendida', 'numeric(18,4)'],
  ['peso_unitario', 'numeric(18,4)'],
  ['peso_calculado', 'numeric(18,4)'],
  ['total_cantidad_por_unidad_medida', 'numeric(18,4)'],
  ['unidad_medida_venta', 'varchar(20)'],
  ['factor_unidad_medida', 'numeric(18,4)'],
  ['precio_unitario', 'numeric(18,4)'],
  ['costo_unitario', 'numeric(18,4)'],
  ['venta_total', 'numeric(18,4)'],
  ['costo_total', 'numeric(18,4)'],
  ['utilidad_bruta', 'numeric(18,4)'],
  ['margen_bruto_pct', 'numeric(8,2)'],
] as const;

export type VentaRow = Record<(typeof VENTAS_COLUMNS)[number][0], string | number>;

/** numeric(18,4) holds magnitudes below 10^14. */
const NUMERIC_18_4_LIMIT = 1e14;
/** numeric(8,2) holds magnitudes below 10^6: extreme margins are clamped rather than failing the whole load. */
const MARGIN_LIMIT = 999_999.99;

export type LineResult =
  { ok: true; row: VentaRow } | { ok: false; reason: string; numeroFactura?: string; linea?: string };

/** The row key `{numero_factura}_L{linea}` used by Fluxion's `ventas.numero_factura`. */
export function rowKey(numeroFactura: string, linea: number | string): string {
  return `${numeroFactura}_L${linea}`;
}

/** KLK sends seven fractional digits; PostgreSQL keeps six and would round 23:59:59.9999999 into the next day. */
function localTimestamp(fecha: string, hora: string): string {
  const dot = hora.indexOf('.');
  return dot < 0 ? `${fecha} ${hora}` : `${fecha} ${hora.slice(0, Math.min(hora.length, dot + 7))}`;
}

function round(value: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}

/**
 * One KLK line to one `ventas` row of `store`, or the reason it cannot be loaded. `checkText: false` skips looking
 * for text PostgreSQL cannot store, for a line known free of it (its JSON text had no escape).
 */
export function lineToRow(raw: unknown, store: Store, checkText = true): LineResult {
  const unstorable = checkText ? unstorableTextReason(raw) : null;
  if (unstorable !== null) return { ok: false, reason: unstorable, ...storableKey(raw) };
  const wellFormed = parseWellFormedLine(raw);
  if (wellFormed) return transform(wellFormed, store);
  const parsed = klkLineSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, reason: rejectionReason(parsed.error), ...storableKey(raw) };
  return transform(parsed.data, store);
}

/** The invoice and line number of a rejected line, each only when PostgreSQL can store it. */
function storableKey(raw: unknown): { numeroFactura?: string; linea?: string } {
  const r = raw as { numero_factura?: unknown; linea?: unknown } | null;
  const numeroFactura = typeof r?.numero_factura === 'string' ? r.numero_factura : undefined;
  const linea = r?.linea === undefined || r?.linea === null ? undefined : String(r.linea);
  return {
    numeroFactura:
      numeroFactura !== undefined && unstorableTextReason(numeroFactura) === null ? numeroFactura : undefined,
    linea: linea !== undefined && unstorableTextReason(linea) === null ? linea : undefined,
  };
}

function transform(line: KlkLine, store: Store): LineResult {
  const cantidad = line.cantidad[0]!;
  const fin = line.financiero[0]!;
  const key = { numeroFactura: line.numero_factura, linea: String(line.linea) };
  if (cantidad.codigo_almacen !== store.almacen) {
    return {
      ok: false,
      reason: `otro almacén: ${cantidad.codigo_almacen} (la tienda vende por ${store.almacen})`,
      ...key,
    };
  }
  const margin = fin.venta_total_usd > 0 ? (fin.utilidad_bruta_usd / fin.venta_total_usd) * 100 : 0;
  const row: VentaRow = {
    numero_factura: rowKey(line.numero_factura, line.linea),
    fecha_venta: localTimestamp(line.fecha, line.hora),
    ubicacion_id: store.id,
    almacen_codigo: cantidad.codigo_almacen,
    almacen_nombre: cantidad.nombre_almacen,
    producto_id: line.producto[0]!.codigo_producto,
    cantidad_vendida: cantidad.cantidad_vendida,
    peso_unitario: cantidad.peso_unitario,
    peso_calculado: round(cantidad.peso_unitario * cantidad.cantidad_vendida, 4),
    total_cantidad_por_unidad_medida: round(cantidad.cantidad_vendida * cantidad.factor_unidad_medida, 4),
    unidad_medida_venta: cantidad.unidad_medida_venta,
    factor_unidad_medida: cantidad.factor_unidad_medida,
    precio_unitario: fin.precio_unitario_usd,
    costo_unitario: fin.costo_unitario_usd,
    venta_total: fin.venta_total_usd,
    costo_total: fin.costo_total_usd,
    utilidad_bruta: fin.utilidad_bruta_usd,
    margen_bruto_pct: Math.max(-MARGIN_LIMIT, Math.min(MARGIN_LIMIT, round(margin, 2))),
  };
  const unfit = unfitColumn(row);
  return unfit ? { ok: false, reason: unfit, ...key } : { ok: true, row };
}

/** Per column: the most characters of a varchar(n), and whether it is a numeric(18,4). */
const COLUMN_LIMITS = VENTAS_COLUMNS.map(([name, type]) => {
  const chars = /^varchar\((\d+)\)$/.exec(type);
  return { name, maxChars: chars ? Number(chars[1]) : null, amount: type === 'numeric(18,4)' };
});

/**
 * Why the row would not fit its columns (a text too long, an amount or a derived quantity beyond numeric(18,4)), or
 * null. Such a line is quarantined: left to the database it would fail the whole answer's load.
 */
function unfitColumn(row: VentaRow): string | null {
  for (const { name, maxChars, amount } of COLUMN_LIMITS) {
    const value = row[name];
    // varchar counts characters; a UTF-16 length within the limit is always within it.
    if (maxChars !== null && typeof value === 'string' && value.length > maxChars && [...value].length > maxChars) {
      return `${name}: más de ${maxChars} caracteres`;
    }
    if (amount && Math.abs(round(value as number, 4)) >= NUMERIC_18_4_LIMIT)
      return 'importe fuera de rango para numeric(18,4)';
  }
  return null;
}

const NEEDS_COPY_ESCAPE = /[\\\t\n\r]/;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** A text as COPY reads it: backslash, tab and line breaks escaped. */
function copyText(value: string | number): string {
  const text = String(value);
  return NEEDS_COPY_ESCAPE.test(text) ? text.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c]!) : text;
}

/** '.0001' ... '.9999' without trailing zeros, '' for 0: the decimals of numeric(18,4) values. */
const DECIMALS = Array.from({ length: 10_000 }, (_, i) =>
  i === 0 ? '' : `.${String(i).padStart(4, '0').replace(/0+$/, '')}`,
);

/**
 * A number as COPY text. An amount with at most four decimals (nearly all) is written from its integer count of
 * ten-thousandths, several times cheaper than the general conversion; any other goes as JavaScript writes it
 * (PostgreSQL's numeric reads exponents too) and is rounded by the column's type on the server.
 */
function copyNumber(value: string | number): string {
  const v = value as number;
  const scaled = v * 10_000;
  const units = Math.round(scaled);
  if (Math.abs(scaled - units) > 1e-7 || Math.abs(units) > Number.MAX_SAFE_INTEGER) return String(value);
  const magnitude = Math.abs(units);
  const whole = Math.floor(magnitude / 10_000);
  return `${units < 0 ? '-' : ''}${whole}${DECIMALS[magnitude - whole * 10_000]}`;
}

/** The row as one line of COPY text format, columns in VENTAS_COLUMNS order. */
export function toCopyLine(r: VentaRow): string {
  return (
    `${copyText(r.numero_factura)}\t${copyText(r.fecha_venta)}\t${copyText(r.ubicacion_id)}\t${copyText(r.almacen_codigo)}\t` +
    `${copyText(r.almacen_nombre)}\t${copyText(r.producto_id)}\t${copyNumber(r.cantidad_vendida)}\t${copyNumber(r.peso_unitario)}\t` +
    `${copyNumber(r.peso_calculado)}\t${copyNumber(r.total_cantidad_por_unidad_medida)}\t${copyText(r.unidad_medida_venta)}\t` +
    `${copyNumber(r.factor_unidad_medida)}\t${copyNumber(r.precio_unitario)}\t${copyNumber(r.costo_unitario)}\t` +
    `${copyNumber(r.venta_total)}\t${copyNumber(r.costo_total)}\t${copyNumber(r.utilidad_bruta)}\t${copyNumber(r.margen_bruto_pct)}\n`
  );
}
