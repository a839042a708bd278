import { z } from 'zod';

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

const date = z
  .string({ error: 'falta la fecha' })
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'fecha no interpretable (se espera YYYY-MM-DD)')
  .refine((v) => {
    const d = new Date(`${v}T00:00:00Z`);
    return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(v);
  }, 'fecha inexistente');

const time = z
  .string({ error: 'falta la hora' })
  .regex(/^([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,7})?$/, 'hora no interpretable (se espera HH:MM:SS.fffffff)');

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
