/**
 * The API's inputs as zod schemas, checked with the same rules as the command line (resolveWindow), and `valid`, the
 * middleware that applies one: bad input is a 400 whose message says what is wrong and what is valid (the first
 * problem found, in the order the request states things).
 */
import { HTTPException } from 'hono/http-exception';
import { validator } from 'hono/validator';
import type { Config } from '../catalogue/config.ts';
import { resolveWindow } from '../catalogue/index.ts';
import type { Store } from '../catalogue/stores.ts';
import { isValidDate, type IsoDate } from '../shared/dates.ts';
import { UsageError } from '../shared/errors.ts';
import { z } from '../shared/zod.ts';

export interface Window {
  from: IsoDate;
  to: IsoDate;
  stores: Store[];
}

/** The page's initial window (`ventas serve --from --to --stores`); what is absent follows the CLI's defaults. */
export interface WindowDefaults {
  from?: IsoDate;
  to?: IsoDate;
  stores?: string;
}

/** Checks request part `target` (hono's query, route params or JSON body) against `schema`; 400 on the first issue. */
export function valid<T extends 'query' | 'param' | 'json', S extends z.ZodType>(target: T, schema: S) {
  return validator(target, (value): z.output<S> => {
    const result = schema.safeParse(value);
    if (!result.success) throw new HTTPException(400, { message: result.error.issues[0]!.message });
    return result.data;
  });
}

/**
 * A query with only `keys`, each at most once: a typo is refused instead of silently ignored. The keys are checked in
 * the query's order (a record keeps it), so the first mistake written is the one named.
 */
function queryOf<K extends string>(keys: readonly K[]) {
  const valid = keys.length > 0 ? keys.join(', ') : 'ninguno';
  return z
    .record(
      z.string().refine((key) => (keys as readonly string[]).includes(key), {
        error: (issue) => `parámetro desconocido: ${String(issue.input)}. Parámetros válidos: ${valid}`,
      }),
      // hono gives a repeated parameter as a list of its values.
      z.string({ error: (issue) => `el parámetro ${String(issue.path?.[0])} aparece más de una vez` }),
      // A refused key is reported inside an invalid_key issue: its own message is the one that says why.
      { error: (issue) => (issue.code === 'invalid_key' ? issue.issues[0]?.message : undefined) },
    )
    .transform((query) => query as Partial<Record<K, string>>);
}

/** Endpoints without parameters. */
export const noQuery = queryOf([]);

/** The CLI's messages name flags (`--from`); the API's parameters have no dashes. */
function asParameters(message: string): string {
  return message.replace(/--(from|to|stores)\b/g, '$1');
}

/** The window as the CLI resolves it, or its UsageError as an issue of the schema. */
function resolveIn(
  ctx: z.core.$RefinementCtx,
  flags: { from?: string; to?: string; stores?: string },
  config: Config,
): Window {
  try {
    return resolveWindow(flags, config);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    ctx.addIssue({ code: 'custom', message: asParameters(error.message) });
    return z.NEVER;
  }
}

/** `?from=&to=&stores=` (stores comma-separated); absent or blank ones take the server's defaults. */
export function windowQuery(config: Config, defaults: WindowDefaults) {
  const given = (value: string | undefined) => value?.trim() || undefined;
  return queryOf(['from', 'to', 'stores']).transform((query, ctx) =>
    resolveIn(
      ctx,
      {
        from: given(query.from) ?? defaults.from,
        to: given(query.to) ?? defaults.to,
        stores: given(query.stores) ?? defaults.stores,
      },
      config,
    ),
  );
}

/**
 * The body of `POST /api/backfill`: `{"from","to","stores"?}`; a state change, so the window is never implied. Checked
 * in stages so the first problem named is the first of: not an object, unknown fields, from, to, stores, the window.
 */
export function backfillBody(config: Config) {
  const example = '{"from": "YYYY-MM-DD", "to": "YYYY-MM-DD", "stores": ["tienda_01", ...]}';
  const storesError = 'stores debe ser una lista de tiendas, p. ej. ["tienda_01", "tienda_02"] (omítalo para todas)';
  const day = (key: string) => z.string({ error: `${key} es obligatorio: una fecha YYYY-MM-DD (p. ej. 2025-10-28)` });
  return z
    .strictObject(
      { from: z.unknown().optional(), to: z.unknown().optional(), stores: z.unknown().optional() },
      {
        error: (issue) =>
          issue.code === 'unrecognized_keys'
            ? `campo desconocido: ${issue.keys.join(', ')}. Campos válidos: from, to, stores`
            : `el cuerpo debe ser un objeto JSON: ${example}`,
      },
    )
    .pipe(
      z.object({
        from: day('from'),
        to: day('to'),
        stores: z.array(z.string({ error: storesError }), { error: storesError }).optional(),
      }),
    )
    .transform((body, ctx) => resolveIn(ctx, { from: body.from, to: body.to, stores: body.stores?.join(',') }, config));
}

/** The body of `POST /api/session`: the token a person typed; anything else counts as no token. */
export const sessionBody = z.object({ token: z.string().optional().catch(undefined) }).catch({});

/** A backfill id in a path: a positive whole number. */
export const runIdParam = z.object({
  id: z
    .string()
    .refine((text) => /^\d+$/.test(text) && Number.isSafeInteger(Number(text)) && Number(text) > 0, {
      error: (issue) => `identificador de backfill inválido: "${String(issue.input)}" (se espera un entero positivo)`,
    })
    .transform(Number),
});

/** `?limit=` of the run history: 1 to 500, 50 by default. */
export const limitQuery = queryOf(['limit']).pipe(
  z.object({
    limit: z
      .string()
      .refine((text) => /^\d+$/.test(text) && Number(text) >= 1 && Number(text) <= 500, {
        error: (issue) => `limit inválido: "${String(issue.input)}" (se espera un entero de 1 a 500)`,
      })
      .transform(Number)
      .default(50),
  }),
);

/** `/api/store-days/STORE/DAY`: a store of the catalogue and a real date. */
export function storeDayParams(config: Config) {
  const ids = config.stores.map((s) => s.id);
  return z.object({
    store: z.string().transform((id, ctx) => {
      const store = config.stores.find((s) => s.id === id);
      if (store) return store;
      ctx.addIssue({
        code: 'custom',
        message: `tienda desconocida: "${id}". Tiendas válidas: ${ids.join(', ')}`,
      });
      return z.NEVER;
    }),
    day: z.string().refine(isValidDate, {
      error: (issue) => `fecha inválida: "${String(issue.input)}" (se espera YYYY-MM-DD, p. ej. 2025-10-28)`,
    }),
  });
}
