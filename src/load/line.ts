import { z } from '../shared/zod.ts';

/**
 * One KLK invoice line as the loader needs it. Every line goes through this one validation: a line that fails is
 * quarantined with the reason, never loaded half-right, and no field is ever filled in with "now".
 */
const amount = z
  .union(
    [
      z.number(),
      z
        .string()
        .trim()
        .regex(/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/, 'no es numérico')
        .transform(Number),
    ],
    {
      error: 'no es numérico',
    },
  )
  .pipe(z.number({ error: 'no es numérico' }).refine(Number.isFinite, 'no es numérico'));

const text = z.string({ error: 'falta o no es texto' });
const optionalText = z
  .string()
  .nullish()
  .transform((v) => v ?? '');

const DATE_FORMAT = /^\d{4}-\d{2}-\d{2}$/;
const TIME_FORMAT = /^([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,7})?$/;

function isRealDate(v: string): boolean {
  const d = new Date(`${v}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(v);
}

const date = z
  .string({ error: 'falta la fecha' })
  .regex(DATE_FORMAT, 'fecha no interpretable (se espera YYYY-MM-DD)')
  .refine(isRealDate, 'fecha inexistente');

const time = z
  .string({ error: 'falta la hora' })
  .regex(TIME_FORMAT, 'hora no interpretable (se espera HH:MM:SS.fffffff)');

export const klkLineSchema = z.object({
  numero_factura: text.trim().min(1, 'falta el número de factura'),
  linea: z
    .union([z.number(), z.string().trim().regex(/^\d+$/).transform(Number)], { error: 'falta el número de línea' })
    .pipe(z.number().int('número de línea no entero').positive('número de línea no positivo')),
  fecha: date,
  hora: time,
  producto: z
    .array(z.object({ codigo_producto: text.min(1, 'falta el código de producto') }), { error: 'falta el producto' })
    .min(1, 'falta el producto'),
  cantidad: z
    .array(
      z.object({
        codigo_almacen: text.min(1, 'falta el almacén'),
        nombre_almacen: optionalText,
        cantidad_vendida: amount,
        peso_unitario: amount.nullish().transform((v) => v ?? 0),
        unidad_medida_venta: optionalText,
        factor_unidad_medida: amount.nullish().transform((v) => v ?? 1),
      }),
      { error: 'falta la cantidad' },
    )
    .min(1, 'falta la cantidad'),
  financiero: z
    .array(
      z.object({
        precio_unitario_usd: amount,
        costo_unitario_usd: amount,
        venta_total_usd: amount,
        costo_total_usd: amount,
        utilidad_bruta_usd: amount,
      }),
      { error: 'faltan los importes' },
    )
    .min(1, 'faltan los importes'),
});

export type KlkLine = z.output<typeof klkLineSchema>;

/** The first problem of a rejected line, as a short Spanish reason for the quarantine. */
export function rejectionReason(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'línea inválida';
  const field = issue.path.filter((p) => typeof p !== 'number').join('.');
  return field ? `${field}: ${issue.message}` : issue.message;
}

// ------------------------------------------------------------------------------------------ text PostgreSQL refuses

/*
 * PostgreSQL text cannot hold U+0000, and UTF-8 cannot encode half of a surrogate pair (JSON.parse gives one for a
 * `\ud800` escape; written out it would silently become U+FFFD). Either would fail the whole answer's load or alter
 * the line, so a line with one anywhere (values and field names alike) is rejected, naming the field.
 */
const SUSPECT_TEXT = /[\0\ud800-\udfff]/;

/** The first code unit of `text` PostgreSQL cannot store (0 for U+0000, else the lone surrogate), or -1. */
function unstorableUnit(text: string): number {
  if (!SUSPECT_TEXT.test(text)) return -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0) return 0;
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
      else return c;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return c;
    }
  }
  return -1;
}

function unstorableText(unit: number): string {
  return unit === 0
    ? 'un carácter nulo (U+0000)'
    : `un sustituto UTF-16 suelto (U+${unit.toString(16).toUpperCase().padStart(4, '0')})`;
}

/**
 * Why the line holds text PostgreSQL cannot store, naming the first field that does
 * (`producto[0].descripcion_producto contiene un carácter nulo (U+0000)`), or null for a line free of it.
 */
export function unstorableTextReason(raw: unknown): string | null {
  // The path is kept as a stack and written out only for a line that has such text.
  const path: Array<string | number> = [];
  const found = findUnstorable(raw, path);
  if (found === null) return null;
  const where = path
    .map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`))
    .join('')
    .replace(/^\./, '');
  if (found.key !== undefined) {
    // JSON.stringify escapes the offending unit, so the reason itself stays storable.
    return `el nombre de campo ${JSON.stringify(found.key)}${where ? ` en ${where}` : ''} contiene ${unstorableText(found.unit)}`;
  }
  return `${where || 'la línea'} contiene ${unstorableText(found.unit)}`;
}

/** The first unstorable unit under `value`, `path` left pointing at it (at its object when it is in a key). */
function findUnstorable(value: unknown, path: Array<string | number>): { unit: number; key?: string } | null {
  if (typeof value === 'string') {
    const unit = unstorableUnit(value);
    return unit === -1 ? null : { unit };
  }
  if (typeof value !== 'object' || value === null) return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const element: unknown = value[i];
      if (typeof element !== 'object' && typeof element !== 'string') continue;
      path.push(i);
      const found = findUnstorable(element, path);
      if (found !== null) return found;
      path.pop();
    }
    return null;
  }
  for (const key in value) {
    const keyUnit = unstorableUnit(key);
    if (keyUnit !== -1) return { unit: keyUnit, key };
    const field: unknown = (value as Record<string, unknown>)[key];
    if (typeof field !== 'object' && typeof field !== 'string') continue;
    path.push(key);
    const found = findUnstorable(field, path);
    if (found !== null) return found;
    path.pop();
  }
  return null;
}

// ------------------------------------------------------------------------------------------ the well-formed path

/*
 * Nearly every line KLK sends has the plain shape: numbers as numbers, texts as texts, one product, one quantity,
 * one amounts object. Checking that shape directly is several times cheaper than the schema; a line that is not
 * exactly that shape goes to the schema, which accepts or rejects it and says why. Only lines the schema would
 * accept take this path, and they come out as the schema would give them.
 */

type Fields = Record<string, unknown>;

const isFields = (v: unknown): v is Fields => typeof v === 'object' && v !== null && !Array.isArray(v);
const isAmount = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isNonEmptyText = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/** Dates seen valid: an answer has a handful of distinct dates and hundreds of thousands of lines. */
const realDates = new Set<string>();

function isKnownDate(v: unknown): v is string {
  if (typeof v !== 'string') return false;
  if (realDates.has(v)) return true;
  if (!DATE_FORMAT.test(v) || !isRealDate(v)) return false;
  if (realDates.size < 10_000) realDates.add(v);
  return true;
}

/** Every element of a non-empty array passes `check`. */
function allOf(v: unknown, check: (element: Fields) => boolean): v is Fields[] {
  if (!Array.isArray(v) || v.length === 0) return false;
  for (const element of v) if (!isFields(element) || !check(element)) return false;
  return true;
}

const productOk = (p: Fields) => isNonEmptyText(p.codigo_producto);
const optionalTextOk = (v: unknown) => v === undefined || v === null || typeof v === 'string';
const optionalAmountOk = (v: unknown) => v === undefined || v === null || isAmount(v);
const quantityOk = (c: Fields) =>
  isNonEmptyText(c.codigo_almacen) &&
  optionalTextOk(c.nombre_almacen) &&
  isAmount(c.cantidad_vendida) &&
  optionalAmountOk(c.peso_unitario) &&
  optionalTextOk(c.unidad_medida_venta) &&
  optionalAmountOk(c.factor_unidad_medida);
const amountsOk = (f: Fields) =>
  isAmount(f.precio_unitario_usd) &&
  isAmount(f.costo_unitario_usd) &&
  isAmount(f.venta_total_usd) &&
  isAmount(f.costo_total_usd) &&
  isAmount(f.utilidad_bruta_usd);

/** The line as `klkLineSchema` would output it (first product, quantity and amounts), or null: ask the schema. */
export function parseWellFormedLine(raw: unknown): KlkLine | null {
  if (!isFields(raw)) return null;
  const numero = typeof raw.numero_factura === 'string' ? raw.numero_factura.trim() : '';
  const linea = raw.linea;
  const hora = raw.hora;
  if (
    numero === '' ||
    !Number.isSafeInteger(linea) ||
    (linea as number) <= 0 ||
    !isKnownDate(raw.fecha) ||
    typeof hora !== 'string' ||
    !TIME_FORMAT.test(hora) ||
    !allOf(raw.producto, productOk) ||
    !allOf(raw.cantidad, quantityOk) ||
    !allOf(raw.financiero, amountsOk)
  ) {
    return null;
  }
  const c = raw.cantidad[0]!;
  const f = raw.financiero[0]!;
  return {
    numero_factura: numero,
    linea: linea as number,
    fecha: raw.fecha,
    hora,
    producto: [{ codigo_producto: raw.producto[0]!.codigo_producto as string }],
    cantidad: [
      {
        codigo_almacen: c.codigo_almacen as string,
        nombre_almacen: (c.nombre_almacen as string | null | undefined) ?? '',
        cantidad_vendida: c.cantidad_vendida as number,
        peso_unitario: (c.peso_unitario as number | null | undefined) ?? 0,
        unidad_medida_venta: (c.unidad_medida_venta as string | null | undefined) ?? '',
        factor_unidad_medida: (c.factor_unidad_medida as number | null | undefined) ?? 1,
      },
    ],
    financiero: [
      {
        precio_unitario_usd: f.precio_unitario_usd as number,
        costo_unitario_usd: f.costo_unitario_usd as number,
        venta_total_usd: f.venta_total_usd as number,
        costo_total_usd: f.costo_total_usd as number,
        utilidad_bruta_usd: f.utilidad_bruta_usd as number,
      },
    ],
  };
}
