/**
 * Whether an answer's `meta` is the answer to the request that was sent. KLK echoes the request in `meta`
 * (sucursal_codigo, fecha_desde/hasta, hora_desde/hasta, almacen); an echo that names another store, warehouse,
 * dates or hours means the lines are not the ones asked for, whatever they look like, so the request fails (and is
 * retried) instead of being loaded.
 */
import type { KlkMeta } from './schema.ts';
import { DAY_END, DAY_START, type KlkWindow } from './windows.ts';

export interface EchoedRequest {
  sucursal: string;
  almacen?: string;
  window: KlkWindow;
}

/** `HH:MM` as `HH:MM:00`, so both spellings of one time compare equal. */
function clockTime(value: string): string {
  return /^\d\d:\d\d$/.test(value) ? `${value}:00` : value;
}

/** An echo left empty: KLK sends `""` (or nothing) for a filter that was not sent. */
function blank(value: string | null | undefined): value is '' | null | undefined {
  return value === undefined || value === null || value.trim() === '';
}

/** A date echo, with any time KLK appends to it (`2026-01-10T00:00:00`) left out. */
function dateOf(value: string): string {
  return /^\d{4}-\d\d-\d\d/.test(value) ? value.slice(0, 10) : value;
}

/** What an answer's `meta` says of the request it answers. */
export interface EchoCheck {
  /** The first way it contradicts the request, in Spanish; null when it does not. */
  contradiction: string | null;
  /**
   * Whether it echoes every filter that was sent. A version of KLK that leaves a field out says nothing either way:
   * its lines still load, but its silence cannot prove a day empty.
   */
  complete: boolean;
}

/**
 * Compares `meta` with the request. A filter that was sent must be echoed with the same value (an empty echo says
 * KLK did not apply it: the lines of every warehouse, or of the whole day); a filter not sent must be echoed empty,
 * or for hours as the whole day.
 */
export function checkEcho(meta: KlkMeta, request: EchoedRequest): EchoCheck {
  const contradiction = (text: string): EchoCheck => ({ contradiction: text, complete: false });
  const differs = (field: string, got: unknown, sent: string) =>
    contradiction(`meta.${field} es ${JSON.stringify(got ?? null)} y se pidió ${JSON.stringify(sent)}`);
  if (meta.sucursal_codigo.trim() !== request.sucursal)
    return differs('sucursal_codigo', meta.sucursal_codigo, request.sucursal);
  const { window } = request;
  if (dateOf(meta.fecha_desde.trim()) !== window.fechaDesde)
    return differs('fecha_desde', meta.fecha_desde, window.fechaDesde);
  if (dateOf(meta.fecha_hasta.trim()) !== window.fechaHasta)
    return differs('fecha_hasta', meta.fecha_hasta, window.fechaHasta);

  const filters: Array<
    [field: 'hora_desde' | 'hora_hasta' | 'almacen' | 'CodArticulo', sent: string | undefined, whole: string | null]
  > = [
    ['hora_desde', window.horaDesde, DAY_START],
    ['hora_hasta', window.horaHasta, DAY_END],
    ['almacen', request.almacen, null],
    // Never sent: a product filter KLK says it applied would leave out every other product.
    ['CodArticulo', undefined, null],
  ];
  let complete = true;
  for (const [field, sent, whole] of filters) {
    const echoed = meta[field];
    if (sent === undefined || sent === '') {
      if (!blank(echoed) && (whole === null || clockTime(echoed.trim()) !== whole)) {
        return contradiction(`meta.${field} es ${JSON.stringify(echoed)} y no se envió ese filtro`);
      }
    } else if (echoed === undefined) {
      complete = false;
    } else if (blank(echoed)) {
      return contradiction(`meta.${field} viene vacío y se pidió ${JSON.stringify(sent)}: KLK no aplicó el filtro`);
    } else if (clockTime(echoed.trim()) !== clockTime(sent)) {
      return differs(field, echoed, sent);
    }
  }
  return { contradiction: null, complete };
}
