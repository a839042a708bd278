/**
 * The API's inputs, checked with the same rules as the command line (resolveWindow): bad input is an HttpError 400
 * with a message that says what is wrong and what is valid.
 */
import type { Config } from '../catalogue/config.ts';
import type { Store } from '../catalogue/stores.ts';
import type { IsoDate } from '../shared/dates.ts';
import { UsageError } from '../shared/errors.ts';
import { resolveWindow } from '../catalogue/index.ts';

export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

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

/** The CLI's messages name flags (`--from`); the API's parameters have no dashes. */
function asParameters(message: string): string {
  return message.replace(/--(from|to|stores)\b/g, '$1');
}

function windowOf(flags: { from?: string; to?: string; stores?: string }, config: Config): Window {
  try {
    return resolveWindow(flags, config);
  } catch (error) {
    if (error instanceof UsageError) throw new HttpError(400, asParameters(error.message));
    throw error;
  }
}

/** Rejects parameters the endpoint does not know and repeated ones, instead of silently ignoring a typo. */
export function checkQuery(query: URLSearchParams, allowed: readonly string[]): void {
  for (const key of new Set(query.keys())) {
    if (!allowed.includes(key)) {
      throw new HttpError(400, `parámetro desconocido: ${key}. Parámetros válidos: ${allowed.length > 0 ? allowed.join(', ') : 'ninguno'}`);
    }
    if (query.getAll(key).length > 1) throw new HttpError(400, `el parámetro ${key} aparece más de una vez`);
  }
}

/** `?from=&to=&stores=` (stores comma-separated); absent ones take the server's defaults. */
export function windowFromQuery(query: URLSearchParams, config: Config, defaults: WindowDefaults): Window {
  checkQuery(query, ['from', 'to', 'stores']);
  const value = (key: string) => {
    const v = query.get(key);
    return v === null || v.trim() === '' ? undefined : v.trim();
  };
  return windowOf({ from: value('from') ?? defaults.from, to: value('to') ?? defaults.to, stores: value('stores') ?? defaults.stores }, config);
}

/** The body of `POST /api/backfill`: `{"from","to","stores"?}`; a state change, so the window is never implied. */
export function windowFromBody(body: unknown, config: Config): Window {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(400, 'el cuerpo debe ser un objeto JSON: {"from": "YYYY-MM-DD", "to": "YYYY-MM-DD", "stores": ["tienda_01", ...]}');
  }
  const fields = body as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((k) => !['from', 'to', 'stores'].includes(k));
  if (unknown.length > 0) throw new HttpError(400, `campo desconocido: ${unknown.join(', ')}. Campos válidos: from, to, stores`);
  for (const key of ['from', 'to'] as const) {
    if (typeof fields[key] !== 'string') throw new HttpError(400, `${key} es obligatorio: una fecha YYYY-MM-DD (p. ej. 2025-10-28)`);
  }
  const stores = fields.stores;
  if (stores !== undefined && !(Array.isArray(stores) && stores.every((s) => typeof s === 'string'))) {
    throw new HttpError(400, 'stores debe ser una lista de tiendas, p. ej. ["tienda_01", "tienda_02"] (omítalo para todas)');
  }
  return windowOf({ from: fields.from as string, to: fields.to as string, stores: (stores as string[] | undefined)?.join(',') }, config);
}

/** A backfill id in a path: a positive whole number. */
export function parseRunId(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n <= 0) {
    throw new HttpError(400, `identificador de backfill inválido: "${text}" (se espera un entero positivo)`);
  }
  return n;
}

/** `?limit=` of the run history: 1 to 500, 50 by default. */
export function parseLimit(query: URLSearchParams): number {
  checkQuery(query, ['limit']);
  const text = query.get('limit');
  if (text === null) return 50;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 500) throw new HttpError(400, `limit inválido: "${text}" (se espera un entero de 1 a 500)`);
  return n;
}
