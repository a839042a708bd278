import { z } from '../shared/zod.ts';

/**
 * One KLK invoice line as the loader needs it. Every line goes through this one validation: a line that fails is
 * quarantined with the reason, never loaded half-right, and no field is ever filled in with "now".
 */
const amount = z
  .union([z.number(), z.string().trim().regex(/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/, 'no es numérico').transform(Number)], {
    error: 'no es numérico',
  })
  .pipe(z.number({ error: 'no es numérico' }).refine(Number.isFinite, 'no es numérico'));

const text = z.string({ error: 'falta o no es texto' });
const optionalText = z.string().nullish().transform((v) => v ?? '');

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

const time = z.string({ error: 'falta la hora' }).regex(TIME_FORMAT, 'hora no interpretable (se espera HH:MM:SS.fffffff)');

export const klkLineSchema = z.object({
  numero_factura: text.trim().min(1, 'falta el número de factura'),
  linea: z.union([z.number(), z.string().trim().regex(/^\d+$/).transform(Number)], { error: 'falta el número de línea' }).pipe(
    z.number().int('número de línea no entero').positive('número de línea no positivo'),
  ),
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
