/**
 * The shape of a KLK answer around its lines: `{ meta, ventas }`. Lines are not validated here: the loader checks
 * each one and quarantines the bad ones, so one odd line never fails a whole answer.
 */
import { z } from '../shared/zod.ts';

/** Echoes of the request are lenient (`""` or absent when not sent); extra fields are kept. */
const echoed = z.string().nullable().optional();

export const klkMetaSchema = z.looseObject({
  sucursal_codigo: z.string(),
  fecha_desde: z.string(),
  fecha_hasta: z.string(),
  hora_desde: echoed,
  hora_hasta: echoed,
  CodArticulo: echoed,
  almacen: echoed,
  total_registros: z.union([z.int().nonnegative(), z.string().regex(/^\d+$/).transform(Number)]),
  fecha_generacion: z.string().optional(),
});

export type KlkMeta = z.infer<typeof klkMetaSchema>;

/** The answer object once its `ventas` array has been streamed out (and replaced by `[]`). */
export const klkEnvelopeSchema = z.looseObject({
  meta: klkMetaSchema.optional(),
  ventas: z.array(z.unknown()),
});

/** One line per issue, `path: message`, for a Spanish error that still names the offending field. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(raíz)'}: ${issue.message}`).join('; ');
}
