import { monthDay, type IsoDate } from '../shared/dates.ts';
import type { Store } from './stores.ts';

/** Why a store-day is not expected to have sales, or null when it is. */
export function closedReason(store: Store, date: IsoDate, chainClosedDays: readonly string[]): string | null {
  if (store.openedOn && date < store.openedOn) return `antes de la apertura (${store.openedOn})`;
  if (store.closedOn && date > store.closedOn) return `después del cierre (${store.closedOn})`;
  const md = monthDay(date);
  if (chainClosedDays.includes(date) || chainClosedDays.includes(md)) return 'día cerrado de la cadena';
  if (store.closedDays.includes(date) || store.closedDays.includes(md)) return 'día cerrado de la tienda';
  return null;
}

export function isClosedDay(store: Store, date: IsoDate, chainClosedDays: readonly string[]): boolean {
  return closedReason(store, date, chainClosedDays) !== null;
}
